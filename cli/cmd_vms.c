// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * passvm create | set | config | destroy | list: managed VMs with numeric
 * IDs and stored configurations, as Proxmox's qm (issue 10; docs/cli.md).
 *   passvm create ID --name NAME --memory MB --cores N [--KEY VALUE...]
 *   passvm set ID [--KEY VALUE...] [--delete KEY[,KEY...]]
 *   passvm config ID
 *   passvm destroy ID
 *   passvm list [--json]
 * Every command takes --config-dir DIR (else $PASSVM_CONFIG_DIR, else
 * /etc/passvm/vms) and --root DIR (the host root where run/passvm/ID/pid
 * and proc/ are read; a fixture tree in tests).
 * A bad option changes nothing: all values are validated before the file
 * is written, and the write is atomic.
 */
#include "cli.h"
#include "common.h"
#include "vms.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_create(int argc, char **argv);
int cmd_set(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_destroy(int argc, char **argv);
int cmd_list(int argc, char **argv);

#define COMMON_OPTS "[--config-dir DIR] [--root DIR]"
#define KEY_HELP \
	"keys: --name NAME --memory MB --cores N --cpu host --ostype l26|other\n" \
	"      --boot order=DEV[;DEV] --kernel PATH --initrd PATH --cmdline TEXT\n" \
	"      --netN virtio,bridge=BR[,tag=1..4094][,mac=XX:XX:XX:XX:XX:XX]\n" \
	"      --diskN PATH[,size=GiB] --hostpciN BDF[,fallback=auto|none]   (N 0..7)\n"

struct vms_args {
	const char *config_dir;
	const char *root;
	bool json;
	bool have_id;
	uint32_t id;
	const char *deletes;    /* set --delete */
	/* KEY VALUE pairs, applied in order once all are read */
	char keys[64][32];
	const char *values[64];
	size_t nkeys;
};

static int usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int usage(const char *cmd, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_error("%s: %s (passvm %s --help)", cmd, msg, cmd);
	return EXIT_USAGE;
}

/* Parses argv: one ID when want_id, --config-dir/--root everywhere, KEY
 * options when allow_keys, --json/--delete where asked. */
static int parse_args(int argc, char **argv, bool want_id, bool allow_keys,
		      bool allow_json, bool allow_delete, struct vms_args *a)
{
	const char *cmd = argv[0];
	memset(a, 0, sizeof(*a));
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (strncmp(arg, "--", 2) != 0) {
			if (!want_id || a->have_id)
				return usage(cmd, "unexpected argument '%s'", arg);
			int r = vms_id_parse(arg, &a->id);
			if (r < 0)
				return usage(cmd, "VM ID '%s' must be a number 100..999999999", arg);
			a->have_id = true;
			continue;
		}
		char opt[32];
		const char *value = NULL, *eq = strchr(arg, '=');
		size_t olen = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
		if (olen >= sizeof(opt))
			return usage(cmd, "unknown option '%s'", arg);
		memcpy(opt, arg + 2, olen);
		opt[olen] = '\0';
		if (allow_json && strcmp(opt, "json") == 0 && !eq) {
			a->json = true;
			continue;
		}
		bool known = strcmp(opt, "config-dir") == 0 || strcmp(opt, "root") == 0 ||
			     (allow_delete && strcmp(opt, "delete") == 0) ||
			     (allow_keys && vms_config_key_known(opt));
		if (!known)
			return usage(cmd, "unknown option '%s'", arg);
		if (eq)
			value = eq + 1;
		else if (i + 1 < argc)
			value = argv[++i];
		else
			return usage(cmd, "option '%s' needs a value", arg);
		if (strcmp(opt, "config-dir") == 0)
			a->config_dir = value;
		else if (strcmp(opt, "root") == 0)
			a->root = value;
		else if (strcmp(opt, "delete") == 0)
			a->deletes = value;
		else if (a->nkeys == ARRAY_SIZE(a->keys))
			return usage(cmd, "too many options%s", "");
		else {
			for (size_t k = 0; k < a->nkeys; k++)
				if (strcmp(a->keys[k], opt) == 0)
					return usage(cmd, "option '--%s' given twice", opt);
			strcpy(a->keys[a->nkeys], opt);
			a->values[a->nkeys++] = value;
		}
	}
	if (want_id && !a->have_id)
		return usage(cmd, "%s", "which VM? give its ID");
	return 0;
}

/* Applies --KEY VALUE and --delete to conf; a bad one is a usage error. */
static int apply_keys(const char *cmd, const struct vms_args *a, struct vms_config *conf)
{
	char why[256];
	for (size_t k = 0; k < a->nkeys; k++)
		if (vms_config_set(conf, a->keys[k], a->values[k], why, sizeof(why)) < 0) {
			log_error("%s %u: --%s: %s", cmd, a->id, a->keys[k], why);
			return EXIT_USAGE;
		}
	if (a->deletes) {
		char list[256];
		snprintf(list, sizeof(list), "%s", a->deletes);
		for (char *save = NULL, *key = strtok_r(list, ",", &save); key;
		     key = strtok_r(NULL, ",", &save)) {
			for (size_t k = 0; k < a->nkeys; k++)
				if (strcmp(a->keys[k], key) == 0) {
					log_error("%s %u: --delete %s conflicts with --%s", cmd, a->id, key, key);
					return EXIT_USAGE;
				}
			if (vms_config_delete(conf, key, why, sizeof(why)) < 0) {
				log_error("%s %u: --delete: %s", cmd, a->id, why);
				return EXIT_USAGE;
			}
		}
	}
	if (vms_config_check(conf, why, sizeof(why)) < 0) {
		log_error("%s %u: %s", cmd, a->id, why);
		return EXIT_USAGE;
	}
	return 0;
}

static int open_store(const char *cmd, const struct vms_args *a, bool create,
		      struct vms_store *store)
{
	int r = vms_store_open(store, a->config_dir, create);
	if (r < 0) {
		const char *dir = a->config_dir ? a->config_dir :
				  getenv(VMS_CONFIG_DIR_ENV) ? getenv(VMS_CONFIG_DIR_ENV) :
				  VMS_DEFAULT_CONFIG_DIR;
		log_error_errno(r, "%s: cannot open the VM config directory %s (--config-dir DIR)",
				cmd, dir);
		return 1;
	}
	return 0;
}

static int lock_vm(const char *cmd, const struct vms_store *store, uint32_t id, int *fd)
{
	int r = vms_store_lock(store, id, fd);
	if (r == -EBUSY) {
		log_error("%s %u: another passvm command holds VM %u's lock; retry when it is done",
			  cmd, id, id);
		return 1;
	}
	if (r < 0) {
		log_error_errno(r, "%s %u: cannot lock VM %u in %s", cmd, id, id, store->path);
		return 1;
	}
	return 0;
}

static int vm_must_exist(const char *cmd, const struct vms_store *store, uint32_t id)
{
	if (vms_store_exists(store, id))
		return 0;
	log_error("%s %u: no VM %u in %s (passvm list shows the VMs)", cmd, id, id, store->path);
	return 1;
}

/* Loads ID.conf; reports absent and corrupt files once. */
static int load_vm(const char *cmd, const struct vms_store *store, uint32_t id,
		   struct vms_config *conf)
{
	char err[512];
	int r = vms_store_load(store, id, conf, err, sizeof(err));
	if (r == -ENOENT) {
		log_error("%s %u: no VM %u in %s (passvm list shows the VMs)", cmd, id, id, store->path);
		return 1;
	}
	if (r < 0 && err[0]) {
		log_error("%s (fix the file, or passvm destroy %u)", err, id);
		return 1;
	}
	if (r < 0) {
		log_error_errno(r, "%s %u: cannot read %s/%u.conf", cmd, id, store->path, id);
		return 1;
	}
	return 0;
}

static int open_root(const char *cmd, const struct vms_args *a, struct host_root *root)
{
	int r = host_root_open(root, a->root ? a->root : "/");
	if (r < 0) {
		log_error_errno(r, "%s: cannot open the host root %s", cmd, a->root ? a->root : "/");
		return 1;
	}
	return 0;
}

static int save_vm(const char *cmd, const struct vms_store *store,
		   const struct vms_config *conf, bool create_new)
{
	int r = vms_store_save(store, conf, create_new);
	if (r == -EEXIST) {
		log_error("%s %u: VM %u already exists (passvm config %u shows it)",
			  cmd, conf->id, conf->id, conf->id);
		return 1;
	}
	if (r < 0) {
		log_error_errno(r, "%s %u: cannot write %s/%u.conf", cmd, conf->id, store->path, conf->id);
		return 1;
	}
	return 0;
}

static bool wants_help(int argc, char **argv, const char *text)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(text, stdout);
			return true;
		}
	return false;
}

int cmd_create(int argc, char **argv)
{
	struct vms_args a;
	struct vms_store store;
	struct vms_config conf;
	int lock = -1;
	if (wants_help(argc, argv, "usage: passvm create ID --name NAME --memory MB --cores N [--KEY VALUE...] "
		       COMMON_OPTS "\n" KEY_HELP))
		return 0;
	int r = parse_args(argc, argv, true, true, false, false, &a);
	if (r)
		return r;
	vms_config_init(&conf, a.id);
	r = apply_keys("create", &a, &conf);
	if (r == 0)
		r = open_store("create", &a, true, &store);
	if (r == 0) {
		r = lock_vm("create", &store, a.id, &lock);
		if (r == 0)
			r = save_vm("create", &store, &conf, true);
		vms_store_unlock(lock);
		vms_store_close(&store);
	}
	return r;
}

int cmd_set(int argc, char **argv)
{
	struct vms_args a;
	struct vms_store store;
	struct vms_config conf;
	int lock = -1;
	if (wants_help(argc, argv, "usage: passvm set ID [--KEY VALUE...] [--delete KEY[,KEY...]] "
		       COMMON_OPTS "\n" KEY_HELP))
		return 0;
	int r = parse_args(argc, argv, true, true, false, true, &a);
	if (r)
		return r;
	if (a.nkeys == 0 && !a.deletes)
		return usage("set", "%s", "nothing to change: give --KEY VALUE or --delete KEY");
	r = open_store("set", &a, false, &store);
	if (r == 0) {
		r = vm_must_exist("set", &store, a.id);
		if (r == 0)
			r = lock_vm("set", &store, a.id, &lock);
		if (r == 0)
			r = load_vm("set", &store, a.id, &conf);
		if (r == 0)
			r = apply_keys("set", &a, &conf);
		if (r == 0)
			r = save_vm("set", &store, &conf, false);
		vms_store_unlock(lock);
		vms_store_close(&store);
	}
	return r;
}

int cmd_config(int argc, char **argv)
{
	struct vms_args a;
	struct vms_store store;
	static struct vms_config conf;
	static char text[64 * 1024];
	if (wants_help(argc, argv, "usage: passvm config ID " COMMON_OPTS "\n"))
		return 0;
	int r = parse_args(argc, argv, true, false, false, false, &a);
	if (r)
		return r;
	r = open_store("config", &a, false, &store);
	if (r)
		return r;
	r = load_vm("config", &store, a.id, &conf);
	vms_store_close(&store);
	if (r)
		return r;
	ssize_t len = vms_config_format(&conf, text, sizeof(text));
	if (len < 0) {
		log_error_errno((int)len, "config %u: cannot format", a.id);
		return 1;
	}
	/* The first line is the file's header comment; qm config prints only keys. */
	const char *body = strchr(text, '\n');
	fputs(body ? body + 1 : text, stdout);
	return 0;
}

int cmd_destroy(int argc, char **argv)
{
	struct vms_args a;
	struct vms_store store;
	struct host_root root;
	int lock = -1;
	pid_t pid;
	if (wants_help(argc, argv, "usage: passvm destroy ID " COMMON_OPTS "\n"))
		return 0;
	int r = parse_args(argc, argv, true, false, false, false, &a);
	if (r)
		return r;
	r = open_store("destroy", &a, false, &store);
	if (r)
		return r;
	/* Checked before the lock (no lock file for a VM that is not there)
	 * and again under it (another destroy may have won the race). */
	r = vm_must_exist("destroy", &store, a.id);
	if (r == 0)
		r = lock_vm("destroy", &store, a.id, &lock);
	if (r == 0)
		r = vm_must_exist("destroy", &store, a.id);
	if (r == 0)
		r = open_root("destroy", &a, &root);
	if (r == 0) {
		if (vms_status_get(&root, a.id, &pid) == VMS_RUNNING) {
			log_error("destroy %u: VM %u is running (pid %d); stop it first", a.id, a.id, (int)pid);
			r = 1;
		}
		host_root_close(&root);
	}
	if (r == 0) {
		int e = vms_store_remove(&store, a.id);
		if (e < 0) {
			log_error_errno(e, "destroy %u: cannot remove %s/%u.conf", a.id, store.path, a.id);
			r = 1;
		}
	}
	vms_store_unlock(lock);
	vms_store_close(&store);
	return r;
}

int cmd_list(int argc, char **argv)
{
	struct vms_args a;
	struct vms_store store;
	struct host_root root;
	static struct vms_config conf;
	uint32_t *ids;
	size_t count, bad_names;
	if (wants_help(argc, argv, "usage: passvm list [--json] " COMMON_OPTS "\n"))
		return 0;
	int r = parse_args(argc, argv, false, false, true, false, &a);
	if (r)
		return r;
	/* No config directory yet means no VMs yet, not an error. */
	r = vms_store_open(&store, a.config_dir, false);
	if (r == -ENOENT && !a.config_dir && !getenv(VMS_CONFIG_DIR_ENV)) {
		printf(a.json ? "[]\n" : "%10s %-20s %-10s %-10s %12s %s\n",
		       "VMID", "NAME", "STATUS", "MEM(MB)", "BOOTDISK(GB)", "PID");
		return 0;
	}
	if (r < 0)
		return open_store("list", &a, false, &store);
	if (open_root("list", &a, &root)) {
		vms_store_close(&store);
		return 1;
	}
	r = vms_store_list(&store, &ids, &count, &bad_names);
	if (r < 0) {
		host_root_close(&root);
		vms_store_close(&store);
		log_error_errno(r, "list: cannot read %s", store.path);
		return 1;
	}
	int status = 0;
	if (a.json)
		printf("[");
	else
		printf("%10s %-20s %-10s %-10s %12s %s\n",
		       "VMID", "NAME", "STATUS", "MEM(MB)", "BOOTDISK(GB)", "PID");
	for (size_t i = 0, shown = 0; i < count; i++) {
		char err[512];
		pid_t pid;
		if (vms_store_load(&store, ids[i], &conf, err, sizeof(err)) < 0) {
			log_error("%s (VM %u left out of the list)", err[0] ? err : "cannot read", ids[i]);
			status = 1;
			continue;
		}
		enum vms_status st = vms_status_get(&root, ids[i], &pid);
		if (a.json)
			printf("%s\n  {\"vmid\": %u, \"name\": \"%s\", \"status\": \"%s\", "
			       "\"maxmem_mib\": %llu, \"bootdisk_gib\": %llu, \"pid\": %d}",
			       shown++ ? "," : "", conf.id, conf.name, vms_status_name(st),
			       (unsigned long long)conf.memory_mib,
			       (unsigned long long)vms_config_bootdisk_gib(&conf), (int)pid);
		else
			printf("%10u %-20s %-10s %-10llu %12.2f %d\n", conf.id, conf.name,
			       vms_status_name(st), (unsigned long long)conf.memory_mib,
			       (double)vms_config_bootdisk_gib(&conf), (int)pid);
	}
	if (a.json)
		printf(count ? "\n]\n" : "]\n");
	if (bad_names)
		log_warn("list: %zu file(s) in %s named *.conf are not ID.conf (ID 100..999999999); ignored",
			 bad_names, store.path);
	free(ids);
	host_root_close(&root);
	vms_store_close(&store);
	return status;
}

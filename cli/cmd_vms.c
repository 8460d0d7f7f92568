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
#include "vmctl.h"
#include "vms_cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cmd_create(int argc, char **argv);
int cmd_set(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_destroy(int argc, char **argv);
int cmd_list(int argc, char **argv);

#define COMMON_OPTS "[--config-dir DIR] [--root DIR] [--run-dir DIR]"
#define KEY_HELP \
	"keys: --name NAME --memory MB --cores N --cpu host --ostype l26|other\n" \
	"      --boot order=DEV[;DEV] --kernel PATH --initrd PATH --cmdline TEXT\n" \
	"      --netN virtio,bridge=BR[,tag=1..4094][,mac=XX:XX:XX:XX:XX:XX]\n" \
	"      --diskN PATH[,size=GiB] --hostpciN BDF[,fallback=auto|none]   (N 0..7)\n"


int vms_cli_usage(const char *cmd, const char *fmt, ...)
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
	return vms_parse_args(argc, argv, want_id, allow_keys, allow_json, allow_delete, false, a);
}

int vms_parse_args(int argc, char **argv, bool want_id, bool allow_keys, bool allow_json,
		   bool allow_delete, bool allow_purge, struct vms_args *a)
{
	const char *cmd = argv[0];
	memset(a, 0, sizeof(*a));
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (strncmp(arg, "--", 2) != 0) {
			if (!want_id || a->have_id)
				return vms_cli_usage(cmd, "unexpected argument '%s'", arg);
			int r = vms_id_parse(arg, &a->id);
			if (r < 0)
				return vms_cli_usage(cmd, "VM ID '%s' must be a number 100..999999999", arg);
			a->have_id = true;
			continue;
		}
		char opt[32];
		const char *value = NULL, *eq = strchr(arg, '=');
		size_t olen = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
		if (olen >= sizeof(opt))
			return vms_cli_usage(cmd, "unknown option '%s'", arg);
		memcpy(opt, arg + 2, olen);
		opt[olen] = '\0';
		if (allow_json && strcmp(opt, "json") == 0 && !eq) {
			a->json = true;
			continue;
		}
		if (allow_purge && strcmp(opt, "purge") == 0 && !eq) {
			a->purge = true;
			continue;
		}
		bool known = strcmp(opt, "config-dir") == 0 || strcmp(opt, "root") == 0 ||
			     strcmp(opt, "run-dir") == 0 ||
			     (allow_delete && strcmp(opt, "delete") == 0) ||
			     (allow_keys && vms_config_key_known(opt));
		if (!known)
			return vms_cli_usage(cmd, "unknown option '%s'", arg);
		if (eq)
			value = eq + 1;
		else if (i + 1 < argc)
			value = argv[++i];
		else
			return vms_cli_usage(cmd, "option '%s' needs a value", arg);
		if (strcmp(opt, "config-dir") == 0)
			a->config_dir = value;
		else if (strcmp(opt, "root") == 0)
			a->root = value;
		else if (strcmp(opt, "run-dir") == 0)
			a->run_dir = value;
		else if (strcmp(opt, "delete") == 0)
			a->deletes = value;
		else if (a->nkeys == ARRAY_SIZE(a->keys))
			return vms_cli_usage(cmd, "too many options%s", "");
		else {
			for (size_t k = 0; k < a->nkeys; k++)
				if (strcmp(a->keys[k], opt) == 0)
					return vms_cli_usage(cmd, "option '--%s' given twice", opt);
			strcpy(a->keys[a->nkeys], opt);
			a->values[a->nkeys++] = value;
		}
	}
	if (want_id && !a->have_id)
		return vms_cli_usage(cmd, "%s", "which VM? give its ID");
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

int vms_cli_open_store(const char *cmd, const struct vms_args *a, bool create,
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

int vms_cli_lock_vm(const char *cmd, const struct vms_store *store, uint32_t id, int *fd)
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

int vms_cli_vm_must_exist(const char *cmd, const struct vms_store *store, uint32_t id)
{
	if (vms_store_exists(store, id))
		return 0;
	log_error("%s %u: no VM %u in %s (passvm list shows the VMs)", cmd, id, id, store->path);
	return 1;
}

/* Loads ID.conf; reports absent and corrupt files once. */
int vms_cli_load_vm(const char *cmd, const struct vms_store *store, uint32_t id,
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

int vms_cli_open_root(const char *cmd, const struct vms_args *a, struct host_root *root)
{
	int r = host_root_open(root, a->root ? a->root : "/");
	if (r < 0) {
		log_error_errno(r, "%s: cannot open the host root %s", cmd, a->root ? a->root : "/");
		return 1;
	}
	return 0;
}

int vms_cli_open_run(const char *cmd, const struct vms_args *a, const struct host_root *root,
		     bool create, struct vms_run *run)
{
	int r = vms_run_open(run, root, a->run_dir, create);
	if (r < 0) {
		log_error_errno(r, "%s: cannot open the run directory %s (--run-dir DIR)", cmd,
				run->path[0] ? run->path : "run/passvm");
		return 1;
	}
	return 0;
}

/* Creates the sparse images of the --diskN PATH,size=G options given now
 * whose file does not exist yet, and records them for destroy --purge.
 * On failure the images created here are removed again. */
static int create_images(const char *cmd, const struct vms_args *a,
			 const struct vms_config *conf, char created[][PATH_MAX], size_t *ncreated)
{
	*ncreated = 0;
	for (size_t k = 0; k < a->nkeys; k++) {
		if (strncmp(a->keys[k], "disk", 4) != 0)
			continue;
		unsigned i = (unsigned)(a->keys[k][4] - '0');
		const struct vms_disk *d = &conf->disk[i];
		if (!d->set || !d->size_gib || access(d->path, F_OK) == 0)
			continue;
		int r = vms_disk_image_create(d->path, d->size_gib);
		if (r < 0) {
			log_error_errno(r, "%s %u: --%s: cannot create the %llu GiB image %s",
					cmd, conf->id, a->keys[k], (unsigned long long)d->size_gib, d->path);
			for (size_t j = 0; j < *ncreated; j++)
				unlink(created[j]);
			return 1;
		}
		snprintf(created[(*ncreated)++], PATH_MAX, "%s", d->path);
	}
	return 0;
}

static int record_images(const char *cmd, const struct vms_store *store, uint32_t id,
			 char created[][PATH_MAX], size_t ncreated)
{
	for (size_t j = 0; j < ncreated; j++) {
		int r = vms_images_add(store, id, created[j]);
		if (r < 0) {
			log_error_errno(r, "%s %u: created %s but cannot record it in %s/.%u.images "
					"(destroy --purge will not remove it)", cmd, id, created[j],
					store->path, id);
			return 1;
		}
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

bool vms_cli_wants_help(int argc, char **argv, const char *text)
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
	if (vms_cli_wants_help(argc, argv, "usage: passvm create ID --name NAME --memory MB --cores N [--KEY VALUE...] "
		       COMMON_OPTS "\n" KEY_HELP))
		return 0;
	int r = parse_args(argc, argv, true, true, false, false, &a);
	if (r)
		return r;
	vms_config_init(&conf, a.id);
	r = apply_keys("create", &a, &conf);
	if (r == 0)
		r = vms_cli_open_store("create", &a, true, &store);
	if (r == 0) {
		static char created[VMS_MAX_DEV][PATH_MAX];
		size_t ncreated = 0;
		r = vms_cli_lock_vm("create", &store, a.id, &lock);
		if (r == 0 && vms_store_exists(&store, a.id)) {
			log_error("create %u: VM %u already exists (passvm config %u shows it)",
				  a.id, a.id, a.id);
			r = 1;
		}
		if (r == 0)
			r = create_images("create", &a, &conf, created, &ncreated);
		if (r == 0)
			r = save_vm("create", &store, &conf, true);
		if (r != 0)
			for (size_t j = 0; j < ncreated; j++)
				unlink(created[j]);
		if (r == 0)
			r = record_images("create", &store, a.id, created, ncreated);
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
	if (vms_cli_wants_help(argc, argv, "usage: passvm set ID [--KEY VALUE...] [--delete KEY[,KEY...]] "
		       COMMON_OPTS "\n" KEY_HELP))
		return 0;
	int r = parse_args(argc, argv, true, true, false, true, &a);
	if (r)
		return r;
	if (a.nkeys == 0 && !a.deletes)
		return vms_cli_usage("set", "%s", "nothing to change: give --KEY VALUE or --delete KEY");
	r = vms_cli_open_store("set", &a, false, &store);
	if (r == 0) {
		r = vms_cli_vm_must_exist("set", &store, a.id);
		if (r == 0)
			r = vms_cli_lock_vm("set", &store, a.id, &lock);
		if (r == 0)
			r = vms_cli_load_vm("set", &store, a.id, &conf);
		if (r == 0)
			r = apply_keys("set", &a, &conf);
		static char created[VMS_MAX_DEV][PATH_MAX];
		size_t ncreated = 0;
		if (r == 0)
			r = create_images("set", &a, &conf, created, &ncreated);
		if (r == 0)
			r = save_vm("set", &store, &conf, false);
		if (r != 0)
			for (size_t j = 0; j < ncreated; j++)
				unlink(created[j]);
		if (r == 0)
			r = record_images("set", &store, a.id, created, ncreated);
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
	if (vms_cli_wants_help(argc, argv, "usage: passvm config ID " COMMON_OPTS "\n"))
		return 0;
	int r = parse_args(argc, argv, true, false, false, false, &a);
	if (r)
		return r;
	r = vms_cli_open_store("config", &a, false, &store);
	if (r)
		return r;
	r = vms_cli_load_vm("config", &store, a.id, &conf);
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

/* destroy --purge: the images passvm created for the VM, and its logs. */
static int purge_images(const struct vms_store *store, const struct vms_config *conf)
{
	char **paths;
	size_t n;
	int r = vms_images_list(store, conf->id, &paths, &n);
	if (r < 0) {
		log_error_errno(r, "destroy %u: cannot read %s/.%u.images", conf->id, store->path,
				conf->id);
		return 1;
	}
	int status = 0;
	for (size_t i = 0; i < n; i++) {
		if (unlink(paths[i]) < 0 && errno != ENOENT) {
			log_error_errno(-errno, "destroy %u: cannot remove the image %s", conf->id,
					paths[i]);
			status = 1;
		} else {
			printf("removed %s\n", paths[i]);
		}
	}
	strv_free(paths, n);
	if (status == 0)
		vms_images_forget(store, conf->id);
	return status;
}

int cmd_destroy(int argc, char **argv)
{
	struct vms_args a;
	struct vms_store store;
	struct host_root root;
	struct vms_run run;
	static struct vms_config conf;
	int lock = -1;
	pid_t pid;
	unsigned restored;
	if (vms_cli_wants_help(argc, argv, "usage: passvm destroy ID [--purge] " COMMON_OPTS "\n"
			       "--purge also removes the disk images passvm created for the VM and its\n"
			       "run directory (console.log, passvm.log)\n"))
		return 0;
	int r = vms_parse_args(argc, argv, true, false, false, false, true, &a);
	if (r)
		return r;
	r = vms_cli_open_store("destroy", &a, false, &store);
	if (r)
		return r;
	/* Checked before the lock (no lock file for a VM that is not there)
	 * and again under it (another destroy may have won the race). */
	r = vms_cli_vm_must_exist("destroy", &store, a.id);
	if (r == 0)
		r = vms_cli_lock_vm("destroy", &store, a.id, &lock);
	if (r == 0)
		r = vms_cli_vm_must_exist("destroy", &store, a.id);
	/* A config that does not parse can still be destroyed (that is how
	 * one gets rid of it), but then --purge does not know the VM. */
	bool loaded = false;
	if (r == 0) {
		char err[512];
		loaded = vms_store_load(&store, a.id, &conf, err, sizeof(err)) == 0;
		if (!loaded)
			vms_config_init(&conf, a.id);
	}
	if (r == 0)
		r = vms_cli_open_root("destroy", &a, &root);
	if (r == 0) {
		r = vms_cli_open_run("destroy", &a, &root, false, &run);
		if (r == 0) {
			enum vms_status st = vmctl_vm_state(&root, &run, &conf, &pid, &restored);
			if (st != VMS_STOPPED) {
				log_error("destroy %u: VM %u is %s (pid %d); stop it first (passvm stop %u)",
					  a.id, a.id, vms_status_name(st), (int)pid, a.id);
				r = 1;
			}
			int e;
			if (r == 0 && a.purge && (e = vms_run_purge(&run, a.id)) < 0) {
				log_error_errno(e, "destroy %u: cannot remove the run files in %s/%u",
						a.id, run.path, a.id);
				r = 1;
			}
			vms_run_close(&run);
		}
		host_root_close(&root);
	}
	if (r == 0 && a.purge)
		r = purge_images(&store, &conf);
	if (r == 0) {
		int e = vms_store_remove(&store, a.id);
		if (e < 0) {
			log_error_errno(e, "destroy %u: cannot remove %s/%u.conf", a.id, store.path, a.id);
			r = 1;
		}
	}
	if (r == 0 && !a.purge)
		vms_images_forget(&store, a.id); /* the images stay, unowned */
	vms_store_unlock(lock);
	vms_store_close(&store);
	return r;
}

int cmd_list(int argc, char **argv)
{
	struct vms_args a;
	struct vms_store store;
	struct host_root root;
	struct vms_run run;
	static struct vms_config conf;
	uint32_t *ids;
	size_t count, bad_names;
	if (vms_cli_wants_help(argc, argv, "usage: passvm list [--json] " COMMON_OPTS "\n"))
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
		return vms_cli_open_store("list", &a, false, &store);
	if (vms_cli_open_root("list", &a, &root)) {
		vms_store_close(&store);
		return 1;
	}
	if (vms_cli_open_run("list", &a, &root, false, &run)) {
		host_root_close(&root);
		vms_store_close(&store);
		return 1;
	}
	r = vms_store_list(&store, &ids, &count, &bad_names);
	if (r < 0) {
		vms_run_close(&run);
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
		unsigned restored;
		if (vms_store_load(&store, ids[i], &conf, err, sizeof(err)) < 0) {
			log_error("%s (VM %u left out of the list)", err[0] ? err : "cannot read", ids[i]);
			status = 1;
			continue;
		}
		enum vms_status st = vmctl_vm_state(&root, &run, &conf, &pid, &restored);
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
	vms_run_close(&run);
	host_root_close(&root);
	vms_store_close(&store);
	return status;
}

/*
 * plugin.c - the stage loader: search path, dlopen, and the checks that let
 * a user see exactly why a stage cannot be used.
 */
#include "plugin.h"
#include "ctx.h"

#include <dirent.h>
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static tj_plugin **loaded;
static size_t nloaded;
static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;

static int add_dir(tj_plugin_path *pp, const char *dir)
{
    char **d = realloc(pp->dirs, (pp->n + 1) * sizeof *d);
    if (!d)
        return TJ_ENOMEM;
    pp->dirs = d;
    if (!(d[pp->n] = strdup(dir)))
        return TJ_ENOMEM;
    pp->n++;
    return 0;
}

/* Directory of the running binary + "/plugins". */
static int add_exe_dir(tj_plugin_path *pp)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 16);
    if (n <= 0)
        return 0;
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash)
        return 0;
    strcpy(slash, "/plugins");
    return add_dir(pp, exe);
}

int tj__plugin_path_init(tj_plugin_path *pp, const char *const *extra,
                         size_t nextra, const char *base_dir)
{
    memset(pp, 0, sizeof *pp);
    int rc = 0;
    for (size_t i = 0; i < nextra && !rc; i++) {
        if (extra[i][0] == '/' || !base_dir) {
            rc = add_dir(pp, extra[i]);
        } else {
            char buf[PATH_MAX];
            snprintf(buf, sizeof buf, "%s/%s", base_dir, extra[i]);
            rc = add_dir(pp, buf);
        }
    }
    const char *env = getenv("TAOJIN_PLUGIN_PATH");
    if (env && *env && !rc) {
        char *copy = strdup(env), *save = NULL;
        for (char *t = strtok_r(copy, ":", &save); t && !rc;
             t = strtok_r(NULL, ":", &save))
            rc = add_dir(pp, t);
        free(copy);
    }
    if (!rc)
        rc = add_dir(pp, TJ_PREFIX "/lib/taojin/plugins");
    if (!rc)
        rc = add_exe_dir(pp);
    return rc;
}

void tj__plugin_path_free(tj_plugin_path *pp)
{
    for (size_t i = 0; i < pp->n; i++)
        free(pp->dirs[i]);
    free(pp->dirs);
    memset(pp, 0, sizeof *pp);
}

/* Checks the descriptor's contents once the version checks have passed. */
static int check_desc(const char *path, const tj_stage_desc *d, tj_err *err)
{
    if (!d->name || !*d->name)
        return tj__errf(err, TJ_ELOAD, "%s: stage descriptor has no name",
                        path);
    if (d->kind == TJ_SOURCE && !d->produce)
        return tj__errf(err, TJ_ELOAD, "%s: source stage '%s' has no "
                        "produce callback", path, d->name);
    if ((d->kind == TJ_TRANSFORM || d->kind == TJ_SINK) && !d->process)
        return tj__errf(err, TJ_ELOAD, "%s: stage '%s' has no process "
                        "callback", path, d->name);
    if (d->kind < TJ_SOURCE || d->kind > TJ_SINK)
        return tj__errf(err, TJ_ELOAD, "%s: stage '%s' has unknown kind %d",
                        path, d->name, (int)d->kind);
    for (const tj_option *o = d->options; o && o->name; o++)
        if (o->type < TJ_OPT_STRING || o->type > TJ_OPT_MAP)
            return tj__errf(err, TJ_ELOAD, "%s: option '%s' has unknown "
                            "type %d", path, o->name, (int)o->type);
    return 0;
}

/* Opens and checks one file; on success appends it to the cache. */
static int load_file_locked(const char *path, const tj_plugin **out,
                            tj_err *err)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return tj__errf(err, TJ_ELOAD, "%s: no such file", path);
    if (!S_ISREG(st.st_mode))
        return tj__errf(err, TJ_ELOAD, "%s: not a regular file", path);
    if (st.st_mode & S_IWOTH)
        return tj__errf(err, TJ_ELOAD, "%s: refusing to load: the file is "
                        "writable by others (mode %04o); run chmod o-w",
                        path, (unsigned)(st.st_mode & 07777));
    char real[PATH_MAX];
    if (!realpath(path, real))
        snprintf(real, sizeof real, "%s", path);
    for (size_t i = 0; i < nloaded; i++)
        if (strcmp(loaded[i]->path, real) == 0) {
            *out = loaded[i];
            return 0;
        }
    void *h = dlopen(real, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        return tj__errf(err, TJ_ELOAD, "%s: not a loadable shared object: %s",
                        path, dlerror());
    tj_entry_fn entry = (tj_entry_fn)dlsym(h, TJ_ENTRY_SYMBOL);
    if (!entry) {
        dlclose(h);
        return tj__errf(err, TJ_ELOAD, "%s: no entry symbol '%s' (not a "
                        "taojin stage, or built without TJ_STAGE_DEFINE)",
                        path, TJ_ENTRY_SYMBOL);
    }
    const tj_stage_desc *d = entry(tj__host_api());
    int rc = 0;
    if (!d)
        rc = tj__errf(err, TJ_ELOAD, "%s: entry point returned no "
                      "descriptor", path);
    else if (d->abi_version != TJ_ABI_VERSION)
        rc = tj__errf(err, TJ_ELOAD, "%s: stage ABI version %u, but this "
                      "taojin (%s) loads ABI version %u; rebuild the stage "
                      "against this taojin's headers", path, d->abi_version,
                      TJ_VERSION, (unsigned)TJ_ABI_VERSION);
    else if (d->struct_size < sizeof(tj_stage_desc))
        rc = tj__errf(err, TJ_ELOAD, "%s: stage descriptor struct_size %u is "
                      "smaller than %zu, the size for ABI version %u", path,
                      d->struct_size, sizeof(tj_stage_desc),
                      (unsigned)TJ_ABI_VERSION);
    else
        rc = check_desc(path, d, err);
    tj_plugin *p = rc ? NULL : calloc(1, sizeof *p);
    tj_plugin **grown = p ? realloc(loaded, (nloaded + 1) * sizeof *grown) : NULL;
    if (!rc && (!p || !grown || !(p->path = strdup(real))))
        rc = tj__errf(err, TJ_ENOMEM, "out of memory");
    if (rc) {
        free(p);
        if (grown)
            loaded = grown;
        dlclose(h);
        return rc;
    }
    p->handle = h;
    p->desc = d;
    loaded = grown;
    loaded[nloaded++] = p;
    *out = p;
    return 0;
}

int tj__plugin_load_file(const char *path, const tj_plugin **out, tj_err *err)
{
    pthread_mutex_lock(&load_lock);
    int rc = load_file_locked(path, out, err);
    pthread_mutex_unlock(&load_lock);
    return rc;
}

int tj__plugin_register_builtin(const tj_stage_desc *desc)
{
    pthread_mutex_lock(&load_lock);
    tj_plugin *p = calloc(1, sizeof *p);
    tj_plugin **grown = p ? realloc(loaded, (nloaded + 1) * sizeof *grown) : NULL;
    int rc = grown && (p->path = strdup("(built in)")) ? 0 : TJ_ENOMEM;
    if (grown)
        loaded = grown;
    if (rc)
        free(p);
    else {
        p->desc = desc;
        loaded[nloaded++] = p;
    }
    pthread_mutex_unlock(&load_lock);
    return rc;
}

static const tj_plugin *find_builtin(const char *name)
{
    for (size_t i = 0; i < nloaded; i++)
        if (!loaded[i]->handle && strcmp(loaded[i]->desc->name, name) == 0)
            return loaded[i];
    return NULL;
}

/* "a, b, c" of every stage found on the path (for 'unknown stage'). */
static void found_stages(const tj_plugin_path *pp, tj_buf *b)
{
    for (size_t i = 0; i < pp->n; i++) {
        DIR *d = opendir(pp->dirs[i]);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            size_t l = strlen(e->d_name);
            if (l > 3 && strcmp(e->d_name + l - 3, ".so") == 0)
                tj__buf_addf(b, "%s%.*s", b->len ? ", " : "", (int)(l - 3),
                             e->d_name);
        }
        if (d)
            closedir(d);
    }
}

int tj__plugin_load(const tj_plugin_path *pp, const char *name,
                    const tj_plugin **out, tj_err *err)
{
    const tj_plugin *b = find_builtin(name);
    if (b) {
        *out = b;
        return 0;
    }
    if (strchr(name, '/'))
        return tj__plugin_load_file(name, out, err);
    char path[PATH_MAX];
    for (size_t i = 0; i < pp->n; i++) {
        snprintf(path, sizeof path, "%s/%s.so", pp->dirs[i], name);
        if (access(path, F_OK) == 0)
            return tj__plugin_load_file(path, out, err);
    }
    tj_buf dirs = {0}, found = {0};
    for (size_t i = 0; i < pp->n; i++)
        tj__buf_addf(&dirs, "%s%s", i ? ", " : "", pp->dirs[i]);
    found_stages(pp, &found);
    tj__errf(err, TJ_ELOAD, "unknown stage '%s': no %s.so in %s; stages "
             "found: %s", name, name, dirs.len ? dirs.data : "(no dirs)",
             found.len ? found.data : "none");
    tj__buf_free(&dirs);
    tj__buf_free(&found);
    return TJ_ELOAD;
}

static int by_name(const void *a, const void *b)
{
    const tj_plugin *x = *(const tj_plugin *const *)a;
    const tj_plugin *y = *(const tj_plugin *const *)b;
    return strcmp(x->desc->name, y->desc->name);
}

int tj__plugin_list(const tj_plugin_path *pp, const tj_plugin ***out,
                    size_t *n, tj_err *err)
{
    tj_buf names = {0};
    found_stages(pp, &names);
    const tj_plugin **list = calloc(1, sizeof *list);
    size_t cnt = 0;
    char *save = NULL;
    for (char *t = names.data ? strtok_r(names.data, ", ", &save) : NULL; t;
         t = strtok_r(NULL, ", ", &save)) {
        const tj_plugin *p;
        bool dup = false;
        for (size_t i = 0; i < cnt; i++)
            dup |= strcmp(list[i]->desc->name, t) == 0;
        tj_err e;
        if (dup || tj__plugin_load(pp, t, &p, &e)) {
            if (!dup)
                tj__log(TJ_LOG_WARN, NULL, "%s", e.msg);
            continue;
        }
        const tj_plugin **g = realloc(list, (cnt + 1) * sizeof *g);
        if (!g)
            break;
        list = g;
        list[cnt++] = p;
    }
    tj__buf_free(&names);
    qsort(list, cnt, sizeof *list, by_name);
    *out = list;
    *n = cnt;
    return 0;
}

void tj__plugins_unload_all(void)
{
    pthread_mutex_lock(&load_lock);
    for (size_t i = 0; i < nloaded; i++) {
        /* sanitizer builds keep objects mapped so leak reports can
         * symbolise frames inside stages */
#if !defined(__SANITIZE_ADDRESS__)
        if (loaded[i]->handle)
            dlclose(loaded[i]->handle);
#endif
        free(loaded[i]->path);
        free(loaded[i]);
    }
    free(loaded);
    loaded = NULL;
    nloaded = 0;
    pthread_mutex_unlock(&load_lock);
}

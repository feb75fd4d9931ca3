/*
 * plugin.h - finding and loading stage shared objects.
 *
 * Search order for `use: NAME`: the pipeline's plugin_dirs, then each
 * directory of $TAOJIN_PLUGIN_PATH (colon-separated), then the install
 * directory (PREFIX/lib/taojin/plugins), then build/plugins beside the
 * binary (<dir of taojin>/plugins).  NAME may also be a path to a .so.
 * Loaded objects stay loaded until tj__plugins_unload_all().
 */
#ifndef TJ_PLUGIN_H
#define TJ_PLUGIN_H
#include "core.h"

typedef struct tj_plugin {
    char *path;
    void *handle;
    const tj_stage_desc *desc;
} tj_plugin;

/* Search path for one pipeline: extra dirs first (may be NULL). */
typedef struct tj_plugin_path {
    char **dirs;
    size_t n;
} tj_plugin_path;

/* Builds the search path; `extra` are plugin_dirs (relative to base_dir). */
int tj__plugin_path_init(tj_plugin_path *pp, const char *const *extra,
                         size_t nextra, const char *base_dir);
void tj__plugin_path_free(tj_plugin_path *pp);

/* Loads the stage NAME (or a path) and checks it: file present, a shared
 * object, an entry symbol, the ABI version, the descriptor size, not
 * writable by others, a sane descriptor.  Each refusal names the file and
 * the problem.  The plugin stays owned by the loader cache. */
int tj__plugin_load(const tj_plugin_path *pp, const char *name,
                    const tj_plugin **out, tj_err *err);
/* Loads one file directly (the checks above). */
int tj__plugin_load_file(const char *path, const tj_plugin **out,
                         tj_err *err);
/* Lists every loadable stage on the search path (first by name wins):
 * fills a malloc()ed array the caller frees (not its elements). */
int tj__plugin_list(const tj_plugin_path *pp, const tj_plugin ***out,
                    size_t *n, tj_err *err);
/* Registers a descriptor built into the host (exec's stdin/stdout). */
int tj__plugin_register_builtin(const tj_stage_desc *desc);
void tj__plugins_unload_all(void);
#endif

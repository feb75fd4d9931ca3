/*
 * paths.c - local inputs of the fetch stage: `paths` globs (with `**`),
 * directories read recursively, URL list files, file:// URLs.
 */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fetch.h"

/* ---- string lists -------------------------------------------------------- */

int strlist_take(strlist *l, char *s)
{
    if (!s)
        return TJ_ENOMEM;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            free(s);
            return TJ_ENOMEM;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = s;
    return 0;
}

int strlist_add(strlist *l, const char *s) { return strlist_take(l, strdup(s)); }

void strlist_free(strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void strlist_sort_unique(strlist *l)
{
    size_t w = 0;
    if (l->n)
        qsort(l->v, l->n, sizeof *l->v, cmp_str);
    for (size_t i = 0; i < l->n; i++) {
        if (w && !strcmp(l->v[w - 1], l->v[i]))
            free(l->v[i]);
        else
            l->v[w++] = l->v[i];
    }
    l->n = w;
}

/* ---- walking ------------------------------------------------------------- */

/* "dir/name" in a new string. */
static char *join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p)
        return NULL;
    memcpy(p, dir, a);
    p[a] = '/';
    memcpy(p + a + 1, name, b + 1);
    if (a == 1 && dir[0] == '/')
        memmove(p + 1, p + 2, b + 1); /* "/" + "x" is "/x" */
    return p;
}

/* The entries of dir except "." and "..", sorted; NULL-terminated. */
static char **list_dir(const char *dir)
{
    DIR *d = opendir(dir);
    strlist l = {0};
    struct dirent *e;
    if (!d)
        return NULL;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
            strlist_add(&l, e->d_name))
            break;
    closedir(d);
    if (l.n)
        qsort(l.v, l.n, sizeof *l.v, cmp_str);
    char **v = realloc(l.v, (l.n + 1) * sizeof *v);
    if (!v) {
        strlist_free(&l);
        return NULL;
    }
    v[l.n] = NULL;
    return v;
}

static void free_names(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

/* Adds every regular file under dir (symlinked directories are not
 * followed, so a link loop cannot trap the walk). */
static int add_tree(const char *dir, strlist *files)
{
    char **names = list_dir(dir);
    int rc = 0;
    for (size_t i = 0; names && names[i] && !rc; i++) {
        char *p = join(dir, names[i]);
        struct stat st, lst;
        if (!p)
            rc = TJ_ENOMEM;
        else if (lstat(p, &lst) == 0 && S_ISDIR(lst.st_mode))
            rc = add_tree(p, files);
        else if (stat(p, &st) == 0 && S_ISREG(st.st_mode))
            rc = strlist_add(files, p);
        free(p);
    }
    free_names(names);
    return rc;
}

/* Adds what `path` names: a file, or every file under a directory. */
static int add_match(const char *path, strlist *files)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return 0;
    if (S_ISDIR(st.st_mode))
        return add_tree(path, files);
    return S_ISREG(st.st_mode) ? strlist_add(files, path) : 0;
}

/* Matches pattern components comps[i..n) below dir. */
static int walk(const char *dir, char **comps, size_t i, size_t n,
                strlist *files)
{
    if (i == n)
        return add_match(dir, files);
    int rc = 0;
    if (!strcmp(comps[i], "**")) {
        rc = walk(dir, comps, i + 1, n, files); /* zero directories */
        char **names = list_dir(dir);
        for (size_t k = 0; names && names[k] && !rc; k++) {
            struct stat lst;
            char *p = join(dir, names[k]);
            if (!p)
                rc = TJ_ENOMEM;
            else if (names[k][0] != '.' && lstat(p, &lst) == 0 &&
                     S_ISDIR(lst.st_mode))
                rc = walk(p, comps, i, n, files); /* one more */
            free(p);
        }
        free_names(names);
        return rc;
    }
    char **names = list_dir(dir);
    for (size_t k = 0; names && names[k] && !rc; k++) {
        if (fnmatch(comps[i], names[k], FNM_PERIOD) != 0)
            continue;
        char *p = join(dir, names[k]);
        rc = p ? walk(p, comps, i + 1, n, files) : TJ_ENOMEM;
        free(p);
    }
    free_names(names);
    return rc;
}

/* The absolute form of a (possibly relative) path, without resolving
 * symbolic links: the working directory is prefixed. */
static char *absolute(const char *path)
{
    char cwd[PATH_MAX];
    if (path[0] == '/')
        return strdup(path);
    if (!getcwd(cwd, sizeof cwd))
        return NULL;
    return join(cwd, path);
}

int paths_expand(const char *pattern, strlist *files, strlist *missing)
{
    char *abs = absolute(pattern);
    char *comps[256];
    size_t n = 0;
    int rc = TJ_ENOMEM;
    if (!abs)
        return rc;
    if (!strpbrk(abs, "*?[")) {
        struct stat st;
        rc = stat(abs, &st) == 0 ? add_match(abs, files)
                                 : strlist_add(missing, abs);
        free(abs);
        return rc;
    }
    for (char *save = NULL, *c = strtok_r(abs, "/", &save);
         c && n < 256; c = strtok_r(NULL, "/", &save))
        if (strcmp(c, "."))
            comps[n++] = c;
    /* The fixed directories before the first wildcard are the root. */
    size_t fixed = 0;
    while (fixed < n && !strpbrk(comps[fixed], "*?["))
        fixed++;
    char root[PATH_MAX] = "/";
    for (size_t i = 0; i < fixed; i++) {
        size_t len = strlen(root);
        snprintf(root + len, sizeof root - len, "%s%s", len > 1 ? "/" : "",
                 comps[i]);
    }
    rc = walk(root, comps, fixed, n, files);
    free(abs);
    return rc;
}

int paths_read_url_list(const char *path, strlist *urls, char *err,
                        size_t errlen)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = 0;
    if (!f) {
        snprintf(err, errlen, "urls_file '%s': %s", path, strerror(errno));
        return TJ_EIO;
    }
    while (!rc && (len = getline(&line, &cap, f)) >= 0) {
        char *s = line, *e = line + len;
        while (s < e && (*s == ' ' || *s == '\t'))
            s++;
        while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' ||
                         e[-1] == '\t'))
            e--;
        *e = '\0';
        if (*s && *s != '#')
            rc = strlist_add(urls, s);
    }
    free(line);
    fclose(f);
    if (rc)
        snprintf(err, errlen, "urls_file '%s': out of memory", path);
    return rc;
}

char *paths_file_url(const char *abs_path)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(abs_path);
    char *u = malloc(7 + 3 * n + 1), *o = u;
    if (!u)
        return NULL;
    memcpy(o, "file://", 7);
    o += 7;
    for (const unsigned char *p = (const unsigned char *)abs_path; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
            (*p >= '0' && *p <= '9') || strchr("/-._~", *p)) {
            *o++ = (char)*p;
        } else {
            *o++ = '%';
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 15];
        }
    }
    *o = '\0';
    return u;
}

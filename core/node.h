/*
 * node.h - a YAML document as a small tree whose every node remembers
 * file:line:col, so any later error can point at the text that caused it.
 */
#ifndef TJ_NODE_H
#define TJ_NODE_H
#include "core.h"

typedef enum tj_node_kind {
    TJ_NODE_SCALAR = 1,
    TJ_NODE_SEQ = 2,
    TJ_NODE_MAP = 3
} tj_node_kind;

typedef struct tj_node tj_node;
struct tj_node {
    tj_node_kind kind;
    const char *file; /* shared, owned by whoever parsed */
    int line, col;    /* 1-based */
    char *value;      /* scalar text after ${VAR} substitution */
    bool plain;       /* unquoted scalar (so `null`/`~`/empty mean null) */
    size_t n;
    tj_node **items; /* sequence items, or mapping values */
    tj_node **keys;  /* mapping keys (scalars) */
};

/* Parses YAML text.  `file` names the source in messages (the string must
 * outlive the tree).  ${VAR} and ${VAR:-default} are substituted in scalar
 * values when `substitute` is set.  On failure returns NULL and fills err
 * with "file:line:col: problem". */
tj_node *tj__node_parse(const char *text, size_t len, const char *file,
                        bool substitute, tj_err *err);
/* Reads and parses a file (file name kept for messages). */
tj_node *tj__node_load_file(const char *path, tj_err *err);
/* Parses a value given on a command line (`--set`, exec options): YAML
 * flow syntax when it parses, else the plain text as one scalar. */
tj_node *tj__node_from_arg(const char *text, const char *origin);
/* A new empty mapping located at `origin`. */
tj_node *tj__node_new_map(const char *origin);
/* Sets key -> value in a mapping (replacing an existing key; takes value). */
int tj__node_map_set(tj_node *map, const char *key, tj_node *value);
void tj__node_free(tj_node *n);
/* Value for key in a mapping, or NULL. */
tj_node *tj__node_get(const tj_node *map, const char *key);
/* True for a plain null scalar ("", "~", "null"). */
bool tj__node_is_null(const tj_node *n);
/* "scalar", "sequence" or "mapping". */
const char *tj__node_kind_name(const tj_node *n);

/* Picks the candidate closest to `word` by edit distance, or NULL when none
 * is close enough to be a plausible typo. */
const char *tj__did_you_mean(const char *word, const char *const *cands,
                             size_t n);
#endif

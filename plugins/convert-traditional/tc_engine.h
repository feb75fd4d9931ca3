/*
 * tc_engine.h - the conversion engine of convert-traditional: OpenCC 1.1.6
 * semantics over the compiled data of tc_format.h, in one pass.
 *
 * The engine knows nothing of records; the stage (convert.c), the tests,
 * the benchmark and the fuzz target all drive it through this header.
 *
 *     tc_conv *cv;
 *     tc_out out = {0};
 *     if (tc_conv_new(tc_config_find("t2s"), NULL, 0, &cv) == 0 &&
 *         tc_convert(cv, text, len, &out) == 0)
 *         fwrite(out.buf, 1, out.len, stdout);
 *     tc_out_free(&out);
 *     tc_conv_free(cv);
 *
 * Errors follow taojin's convention: 0, or a negative TJ_E* code.
 */
#ifndef TC_ENGINE_H
#define TC_ENGINE_H

#include <stddef.h>
#include <stdint.h>

/* Output of a conversion.  tc_convert appends to buf (malloc()ed, always
 * NUL-terminated, with at least one spare byte past len) and adds to the
 * counters: `changes` counts converted pieces whose text changed (0 means
 * the output equals the input), `invalid` the bytes that were not UTF-8
 * and were copied through unchanged. */
typedef struct tc_out {
    char *buf;
    size_t len, cap;
    size_t changes, invalid;
} tc_out;

/* Frees o->buf and zeroes o; a zeroed tc_out is a valid empty output. */
void tc_out_free(tc_out *o);

/* Validates the embedded data once (thread-safe) and returns 0, or
 * TJ_EIO with *why naming the problem when it is corrupt or missing. */
int tc_data_check(const char **why);

/* Index of configuration `name` ("t2s", ...), or -1 when there is none. */
int tc_config_find(const char *name);
/* Name of configuration idx, or NULL past the end. */
const char *tc_config_name(int idx);
/* Number of compiled configurations. */
int tc_config_count(void);

/* A user dictionary in OpenCC's text format ("key<TAB>value ...\n", first
 * value used).  Its entries win over the configuration: see tc_convert. */
typedef struct tc_userdict tc_userdict;

/* Parses `len` bytes of dictionary text; `label` names the source in error
 * messages.  On success stores the dictionary in *out (free it with
 * tc_userdict_free) and returns 0.  On a format error returns TJ_EPARSE and,
 * when err is not NULL, a malloc()ed "label:line: ..." message in *err. */
int tc_userdict_parse(const char *text, size_t len, const char *label,
                      tc_userdict **out, char **err);
/* Reads and parses the file at path; TJ_EIO (message in *err) when it
 * cannot be read, else as tc_userdict_parse. */
int tc_userdict_load(const char *path, tc_userdict **out, char **err);
/* Number of entries. */
size_t tc_userdict_size(const tc_userdict *ud);
/* Frees ud; NULL is a no-op. */
void tc_userdict_free(tc_userdict *ud);

/* A converter: a configuration plus scratch space.  One per thread. */
typedef struct tc_conv tc_conv;

/* Creates a converter for configuration `config` (an index).  `ud` (may be
 * NULL) is borrowed and must outlive the converter.  With `protect` set,
 * Simplified-only characters are never rewritten (config: auto).  Returns
 * 0, TJ_EINVAL for a bad index or TJ_ENOMEM. */
int tc_conv_new(int config, const tc_userdict *ud, int protect,
                tc_conv **out);
/* Switches the configuration and protection of cv; TJ_EINVAL on a bad
 * index. */
int tc_conv_set(tc_conv *cv, int config, int protect);
/* Frees cv; NULL is a no-op. */
void tc_conv_free(tc_conv *cv);

/* Converts in[0..len) and appends the result to out.  Exactly OpenCC's
 * output for valid UTF-8 without NUL bytes when there is no user dictionary
 * and protect is off.  Otherwise:
 *  - bytes that are not UTF-8 are copied through and never match a key;
 *  - every occurrence of a user key (leftmost, longest) is replaced by its
 *    value, and the text between occurrences is converted on its own;
 *  - with protect, Simplified-only characters are copied through and split
 *    the text the same way.
 * Returns 0 or TJ_ENOMEM (out then holds a prefix of the result). */
int tc_convert(tc_conv *cv, const char *in, size_t len, tc_out *out);

/* tc_convert for texts[text] of the last tc_detect call on cv (the same
 * bytes: in == texts[text], len == lens[text]), when that call chose a
 * configuration: with protect on, the Simplified-only characters it
 * recorded are used instead of being searched for again.  Same output as
 * tc_convert. */
int tc_convert_known(tc_conv *cv, size_t text, const char *in, size_t len,
                     tc_out *out);

/* What `config: auto` looked at (see tc_detect). */
typedef struct tc_evidence {
    size_t trad; /* Traditional-only characters */
    size_t simp; /* Simplified-only characters */
    size_t tw;   /* pieces tw2t would rewrite (Taiwan forms) */
    size_t hk;   /* pieces hk2t would rewrite (Hong Kong forms) */
} tc_evidence;

/* Chooses a configuration for n texts taken together: -1 ("none": leave
 * them alone) when no Traditional-only character occurs, else tw2s when
 * Taiwan forms outnumber Hong Kong forms, hk2s in the opposite case, t2s
 * otherwise.  Uses cv's scratch space (its configuration is kept).  Fills
 * *ev when not NULL.  Returns the index, -1, or TJ_ENOMEM. */
int tc_detect(tc_conv *cv, const char *const *texts, const size_t *lens,
              size_t n, tc_evidence *ev);

#endif /* TC_ENGINE_H */

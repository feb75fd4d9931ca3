/*
 * charset.h - which charset a body is in, and its text in UTF-8.
 *
 * Resolution, first that holds: a forced charset; a BOM; the HTTP header's
 * label; a <meta> (or <?xml encoding?>) label in the first 4 KB; detection
 * (valid UTF-8, UTF-16 without BOM by its zero bytes, then uchardet); the
 * fallback.  A declared label is used only when the bytes decode cleanly in
 * it; a label that fails falls through to the next source.
 */
#ifndef DECODE_CHARSET_H
#define DECODE_CHARSET_H

#include <stddef.h>

#define CS_META_WINDOW 4096 /* bytes searched for <meta charset> */
#define CS_DETECT_WINDOW (256 * 1024) /* bytes given to uchardet */
#define CS_NAME_MAX 48

typedef enum cs_source {
    CS_SRC_BOM,
    CS_SRC_HEADER,
    CS_SRC_META,
    CS_SRC_DETECTED,
    CS_SRC_FALLBACK,
    CS_SRC_FORCED
} cs_source;

/* The name a record's charset_source field carries. */
const char *cs_source_name(cs_source src);

/* What the caller knows besides the bytes.  All members may be NULL. */
typedef struct cs_hints {
    const char *forced;       /* `charset:` option, already canonical */
    const char *content_type; /* the HTTP Content-Type header */
    const char *fallback;     /* canonical; NULL = GB18030 */
} cs_hints;

/* The outcome of cs_decode. */
typedef struct cs_result {
    char *text;     /* malloc()ed UTF-8 with a spare byte, or NULL when the
                       input itself is the text (valid UTF-8, no BOM) */
    size_t len;
    char charset[CS_NAME_MAX]; /* canonical name of the charset used */
    cs_source source;
    size_t errors; /* sequences replaced by U+FFFD */
} cs_result;

/* A detector; one per stage instance (not thread-safe). */
typedef struct cs_detector cs_detector;
cs_detector *cs_detector_new(void);
void cs_detector_free(cs_detector *d);

/* Maps a charset label the way browsers do (WHATWG Encoding, narrowed to
 * what iconv converts): gb2312/gbk/x-gbk/... -> GB18030, big5 ->
 * BIG5-HKSCS, latin1 family -> WINDOWS-1252, utf8 -> UTF-8 ...  Labels not
 * in the table are kept (upper-cased) when iconv knows them.  Writes the
 * canonical name to out (CS_NAME_MAX bytes) and returns 0, or returns
 * TJ_EINVAL for an unknown or unusable label. */
int cs_canonical(const char *label, size_t len, char *out);

/* Finds the charset parameter of a Content-Type value.  Returns its
 * length and sets *label, or returns 0 when there is none. */
size_t cs_content_type_label(const char *content_type, const char **label);

/* Finds a label declared in the document: <meta charset=...>,
 * <meta http-equiv content="...; charset=...">, or <?xml encoding=...?>,
 * within the first CS_META_WINDOW bytes.  Returns its length and sets
 * *label, or returns 0. */
size_t cs_meta_label(const char *s, size_t n, const char **label);

/* Recognises UTF-16 without a BOM by the zero bytes of its ASCII
 * characters.  Returns CS_UTF16LE, CS_UTF16BE or NULL. */
const char *cs_guess_utf16(const unsigned char *s, size_t n);

/* 1 when the first CS_GB_CODES non-ASCII codes of s (within its first
 * CS_GB_WINDOW bytes) are surely Chinese in GBK or GB18030, else 0: at least 64 double-byte (or four-byte GB18030) codes,
 * stray bytes under 1% of them, and at least a tenth of them among the
 * forty commonest characters (cs_gb_common).
 * Its yes stands in for uchardet's verdict, which costs a hundred times
 * more on such a page; tests/test_accuracy.c shows uchardet says GB18030
 * on every corpus file where it says yes.  A no decides nothing. */
#define CS_GB_WINDOW (64 * 1024)
#define CS_GB_CODES 1024 /* codes enough for the verdict */
extern const char cs_gb_common[];
int cs_gb_sure(const unsigned char *s, size_t n);

/* The charset of s by detection, mapped through cs_canonical, written to
 * out: GB18030 when cs_gb_sure says so, else uchardet's verdict.  Returns
 * 0, or TJ_EINVAL when it found nothing usable. */
int cs_detect(cs_detector *d, const char *s, size_t n, char *out);

/* Decodes n bytes at s to UTF-8 following the resolution order above.
 * Returns 0 and fills *res (free res->text), or TJ_ENOMEM, or TJ_EINVAL
 * when the forced or fallback charset cannot be converted. */
int cs_decode(cs_detector *d, const char *s, size_t n, const cs_hints *hints,
              cs_result *res);

#endif

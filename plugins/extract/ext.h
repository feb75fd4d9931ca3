/*
 * ext.h - internals of the extract stage (not a public header).
 *
 * The stage is split by concern: util.c (buffers, UTF-8), date.c (date and
 * time expressions), money.c (amounts, percents), dict.c (organisation
 * dictionary, script detection), entities.c (the body scanner), meta.c
 * (title, author, editor, source, published_at), rules.c (user PCRE2 rules)
 * and extract.c (the stage itself).  Internal non-static names use the
 * `ext_` prefix; the shared object exports only taojin_stage_entry.
 */
#ifndef TJ_EXTRACT_EXT_H
#define TJ_EXTRACT_EXT_H

#include <stddef.h>
#include <stdint.h>

/* ---- util.c ----------------------------------------------------------- */

/* A growable byte string, always NUL-terminated once anything was added. */
typedef struct ext_buf {
    char *p;
    size_t len, cap;
} ext_buf;

/* Grows b to hold at least `need` bytes; returns 0 or -1 when out of
 * memory (b is then unchanged). */
int ext_buf_grow(ext_buf *b, size_t need);

/* Appends n bytes to b, growing it; returns 0 or -1 when out of memory (b
 * is then unchanged).  Inline: most appends fit and cost one copy. */
static inline int ext_buf_add(ext_buf *b, const void *data, size_t n)
{
    if (b->len + n + 1 > b->cap && ext_buf_grow(b, b->len + n + 1))
        return -1;
    if (n)
        __builtin_memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

/* ext_buf_add of a string literal (its length folds away). */
#define ext_buf_lit(b, lit) ext_buf_add((b), (lit), sizeof(lit) - 1)
int ext_buf_puts(ext_buf *b, const char *s);
void ext_buf_free(ext_buf *b);

/* JSON text written straight into a buffer, byte for byte as cJSON's
 * PrintUnformatted writes it (so the output matches the cJSON tree it
 * replaces).  ext_json_str writes s[0..n) as a quoted string (stopping at
 * a NUL byte, as a C string would), ext_json_num a number as cJSON 1.7.15
 * does: %1.15g, or %1.17g when that does not read back, NaN and infinities
 * as null, -0 as "-0" (whole numbers and cents take a faster path to the
 * same text).  Both return 0 or -1 when out of memory. */
int ext_json_str(ext_buf *b, const char *s, size_t n);
int ext_json_num(ext_buf *b, double d);

/* Decodes the UTF-8 character at s[0..n); stores its length (1 for an
 * invalid byte, which decodes as U+FFFD) in *len.  n must be > 0.  The
 * inline wrapper takes the ASCII and well-formed 3-byte paths (CJK and
 * the full-width punctuation) itself; ext_utf8_next_slow handles the
 * rest. */
uint32_t ext_utf8_next_slow(const char *s, size_t n, size_t *len);

static inline uint32_t ext_utf8_next(const char *str, size_t n, size_t *len)
{
    const unsigned char *s = (const unsigned char *)str;
    if (s[0] < 0x80) {
        *len = 1;
        return s[0];
    }
    if (n >= 3) {
        /* E1..EC or EE..EF lead (never overlong nor a surrogate), two
         * continuation bytes (b ^ 0x80 < 0x40 for both) */
        uint32_t b = s[0], b1 = s[1] ^ 0x80u, b2 = s[2] ^ 0x80u;
        if (b - 0xE1 <= 0xEF - 0xE1 && b != 0xED && (b1 | b2) < 0x40) {
            *len = 3;
            return (b & 0x0F) << 12 | b1 << 6 | b2;
        }
    }
    return ext_utf8_next_slow(str, n, len);
}

/* Number of characters (code points) in s[0..n). */
size_t ext_utf8_count(const char *s, size_t n);

/* min(ext_utf8_count(s, n), limit), reading no further than needed: for
 * tests such as "at most 80 characters" on lines of any length. */
size_t ext_utf8_count_max(const char *s, size_t n, size_t limit);

/* Whitespace test for ASCII blanks, NBSP, U+3000 and U+2000..U+200B; stores
 * the byte length of the blank in *len when it returns non-zero. */
int ext_is_space(const char *s, size_t n, size_t *len);

/* Trims blanks (as ext_is_space) on both ends of s[0..*n); returns the new
 * start and updates *n. */
const char *ext_trim(const char *s, size_t *n);

/* A malloc'ed copy of s[0..n) with blank runs collapsed to one ASCII space
 * and both ends trimmed; NULL when out of memory. */
char *ext_clean_dup(const char *s, size_t n);

/* Non-zero when s[0..n) begins with the NUL-terminated prefix p (inline:
 * with a literal p the length folds away). */
static inline int ext_starts(const char *s, size_t n, const char *p)
{
    size_t l = __builtin_strlen(p);
    return l <= n && __builtin_memcmp(s, p, l) == 0;
}

/* ext_starts for a prefix that is not a literal (table entries): the
 * first bytes are compared before anything is called.  Same result. */
static inline int ext_starts_tab(const char *s, size_t n, const char *p)
{
    return p[0] == '\0' || (n && s[0] == p[0] && ext_starts(s, n, p));
}

/* A set of words (NUL-terminated UTF-8 strings, a NULL-ended list) with a
 * bit set of their first characters, made once by ext_words_init (safe to
 * call from several threads: the set is built under a pthread_once). */
typedef struct ext_words {
    const char *const *list;
    uint8_t first[65536 / 8];
    int ready;
} ext_words;

/* Non-zero when a word of ws occurs in s[0..n), like a memmem of each
 * word in turn but in one pass over the characters of s. */
int ext_words_in(ext_words *ws, const char *s, size_t n);

/* Non-zero when a word of ws starts at s[0..n), whose first character
 * (as ext_utf8_next decodes it) is c: the same answer as trying
 * ext_starts on each word (words being well-formed UTF-8, as for
 * ext_words_in), with one bit test for most characters. */
int ext_words_at(ext_words *ws, const char *s, size_t n, uint32_t c);

/* Han ideograph test (CJK unified, extension A, compatibility). */
int ext_is_han(uint32_t cp);

/* ---- date.c ----------------------------------------------------------- */

/* A calendar date and time as written, plus what was known.  `off_min` is
 * the UTC offset in minutes when has_off is set. */
typedef struct ext_dt {
    int y, mo, d, h, mi, s;
    int has_year, has_time, has_off, off_min;
} ext_dt;

/* The reference for relative and year-less expressions: `now` is a Unix
 * time (has_now = 0 when unknown), `zone_min` the offset in which "today"
 * is counted, `year` the year assumed for 3月26日 (0 = use now's year). */
typedef struct ext_dref {
    int64_t now;
    int has_now;
    int zone_min;
    int year;
} ext_dref;

/* Parses one date/time expression starting exactly at s (ISO 8601, RFC 2822,
 * 2025-03-05 10:05, 2025/02/04, 2025.3.5, 2025年02月06日 10:32, 3月26日,
 * 昨天 10:05, 3小时前, 刚刚, ...).  Fills *out with a resolved date (relative
 * forms need ref->has_now) and returns the bytes consumed, or 0 when no
 * complete, valid date starts there.  `strict_ymd` refuses year-less and
 * relative forms. */
size_t ext_date_parse(const char *s, size_t n, const ext_dref *ref,
                      int strict_ymd, ext_dt *out);

/* Finds the first date in s[0..n) (a line of text); returns its offset and
 * stores the parse in *out and its length in *mlen, or returns -1. */
long ext_date_find(const char *s, size_t n, const ext_dref *ref, ext_dt *out,
                   size_t *mlen);

/* Seconds since the epoch of dt, reading a missing offset as zone_min. */
int64_t ext_dt_epoch(const ext_dt *dt, int zone_min);

/* Sets *out to the wall clock of Unix time t in zone zone_min. */
void ext_dt_from_epoch(int64_t t, int zone_min, ext_dt *out);

/* Writes dt as "YYYY-MM-DDTHH:MM:SS+HH:MM" in zone zone_min (converting
 * when dt carries another offset) into out (at least 32 bytes). */
void ext_dt_iso(const ext_dt *dt, int zone_min, char *out);

/* Parses "+08:00", "-0500", "Z", "UTC", "GMT+8" or a few zone names
 * (Asia/Shanghai ...) into minutes; returns 0 or -1 when unknown. */
int ext_parse_zone(const char *s, int *min);

/* ---- money.c ---------------------------------------------------------- */

enum { EXT_APPROX_NONE = 0, EXT_APPROX_ABOUT, EXT_APPROX_BELOW,
       EXT_APPROX_ABOVE };

/* One amount of money.  A range has is_range set and low/high; otherwise
 * value.  currency is an ISO 4217 code ("CNY" for 元 when nothing else). */
typedef struct ext_money {
    double value, low, high;
    int is_range;
    int approx;
    const char *currency;
    int has_currency; /* a currency word or sign was written */
} ext_money;

/* Parses a money expression starting exactly at s: modifiers (约, 近, 超,
 * 至少 ...), a currency prefix or suffix, Arabic or Chinese numerals with
 * units (万, 亿, 万亿, 千, k, w), 角/分 subunits, ranges (300亿至350亿美元)
 * and 多/几 vagueness.  Returns the bytes consumed or 0.  With
 * need_currency set, an expression without a currency (or 元/块) fails. */
size_t ext_money_parse(const char *s, size_t n, int need_currency,
                       ext_money *out);

/* Zero when ext_money_parse(s, n, 1, ...) returns 0 for sure: the run of
 * money-grammar characters at s holds no currency, or nothing money can
 * start with is at s.  Non-zero says only that the parse may match.  The
 * same test the parse makes first, without its setup, so that a scanner
 * trying many positions pays little for the refused ones. */
int ext_money_may_match(const char *s, size_t n);

/* For tests: the currency-run filter of ext_money_parse (non-zero when the
 * run of money-grammar characters at s holds a currency), with the digit
 * skip the parser uses (plain == 0) or decoding every character as the
 * plain form it is checked against (plain != 0).  Both give the same
 * answer. */
int ext_money_run_check(const char *s, size_t n, int plain);

/* Parses a percentage starting at s: 8.5%, 8.5％, 百分之二十.  Returns the
 * bytes consumed and the value in *value, or 0. */
size_t ext_percent_parse(const char *s, size_t n, double *value);

/* Parses a Chinese or Arabic number at s (一百二十三, 1,234.5); returns the
 * bytes consumed or 0. */
size_t ext_number_parse(const char *s, size_t n, double *value);

/* ---- dict.c ----------------------------------------------------------- */

typedef struct ext_dict ext_dict;

/* Creates a dictionary holding the organisations embedded in the stage
 * (when `builtin`) and those of the TSV file `path` (may be NULL).  On
 * failure returns NULL and writes a message to err (size errlen). */
ext_dict *ext_dict_create(int builtin, const char *path, char *err,
                          size_t errlen);
void ext_dict_destroy(ext_dict *d);

/* Number of organisations in d. */
size_t ext_dict_size(const ext_dict *d);

/* Canonical name of organisation i. */
const char *ext_dict_name(const ext_dict *d, size_t i);

/* Looks for the longest alias starting at s; returns its byte length and
 * the organisation index in *org, or 0. */
size_t ext_dict_match(const ext_dict *d, const char *s, size_t n,
                      size_t *org);

/* Non-zero when an alias of d may begin with character c (a bit test). */
int ext_dict_may_start(const ext_dict *d, uint32_t c);

/* The dictionary's filters, for scanners that test them inline: a 64K-bit
 * set of first characters (ASCII lower-cased, indexed by c & 0xFFFF) and a
 * 64K-bit set of ext_pair_hash(first, second) over every alias.  A
 * position whose two characters miss either set starts no alias. */
const uint8_t *ext_dict_first_bits(const ext_dict *d);
const uint8_t *ext_dict_pair_bits(const ext_dict *d);

/* The third-character mask ext_dict_match tests for texts beginning with
 * the characters c0 c1 (ASCII letters compare without case): bit
 * (third character & 63) of each longer alias starting with them, all
 * ones when one of them has only these two characters, 0 when no alias
 * starts with them (the match then fails at once). */
uint64_t ext_dict_third_bits(const ext_dict *d, uint32_t c0, uint32_t c1);

static inline unsigned ext_pair_hash(uint32_t a, uint32_t b)
{
    return (a * 0x9E3779B1u ^ b * 0x85EBCA77u) >> 16;
}

static inline int ext_bit(const uint8_t *bits, unsigned i)
{
    return (bits[(i & 0xFFFF) >> 3] >> (i & 7)) & 1;
}

/* Adds a TSV text (canonical<TAB>alias<TAB>...) to d; returns 0 or -1 with
 * a message naming `what` and the line in err. */
int ext_dict_load_tsv(ext_dict *d, const char *text, size_t n,
                      const char *what, char *err, size_t errlen);

/* The organisations TSV compiled into the stage, and its size. */
const char *ext_builtin_orgs(size_t *len);

/* The script character table compiled into the stage (two lines, "T\t..."
 * and "S\t...": characters found only in Traditional / Simplified text). */
const char *ext_script_table(size_t *len);

/* Classifies text as "simplified", "traditional" or "mixed" by counting
 * characters that exist in only one script. */
const char *ext_script(const char *s, size_t n);

/* The same verdict from the counts of Traditional-only and Simplified-only
 * characters (a character in both tables counts in both). */
const char *ext_script_verdict(size_t trad, size_t simp);

/* ORs trad_bit into cls[c] for every Traditional-only and simp_bit for
 * every Simplified-only character c in U+3000..U+9FFF (the characters
 * ext_script counts), for scanners that count them in their own pass. */
void ext_script_mark(uint8_t *cls, unsigned trad_bit, unsigned simp_bit);

#endif

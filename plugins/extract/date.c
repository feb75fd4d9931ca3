/*
 * date.c - date and time expressions of Chinese and English news pages.
 *
 * ext_date_parse() reads one expression at a given position; the forms are
 * tried in turn (absolute numeric, Chinese 年月日, year-less 月日, English
 * RFC 2822, relative 昨天/3小时前/刚刚).  Everything is computed with plain
 * integer calendar arithmetic, never the process time zone.
 */
#include "ext.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static int days_in_month(int y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

int64_t ext_dt_epoch(const ext_dt *dt, int zone_min)
{
    int off = dt->has_off ? dt->off_min : zone_min;
    return days_from_civil(dt->y, dt->mo, dt->d) * 86400 + dt->h * 3600 +
           dt->mi * 60 + dt->s - (int64_t)off * 60;
}

void ext_dt_from_epoch(int64_t t, int zone_min, ext_dt *out)
{
    memset(out, 0, sizeof *out);
    t += (int64_t)zone_min * 60;
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int64_t rem = t - days * 86400;
    civil_from_days(days, &out->y, &out->mo, &out->d);
    out->h = (int)(rem / 3600);
    out->mi = (int)(rem / 60 % 60);
    out->s = (int)(rem % 60);
    out->has_year = out->has_time = out->has_off = 1;
    out->off_min = zone_min;
}

void ext_dt_iso(const ext_dt *dt, int zone_min, char *out)
{
    ext_dt w = *dt;
    if (dt->has_off && dt->off_min != zone_min)
        ext_dt_from_epoch(ext_dt_epoch(dt, zone_min), zone_min, &w);
    int a = zone_min < 0 ? -zone_min : zone_min;
    int f[8] = {w.y % 10000, w.mo % 100, w.d % 100, w.h % 100, w.mi % 100,
                w.s % 100, a / 60 % 100, a % 60};
    for (int k = 0; k < 8; k++)
        if (f[k] < 0) { /* what snprintf makes of a negative field */
            snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d",
                     f[0], f[1], f[2], f[3], f[4], f[5],
                     zone_min < 0 ? '-' : '+', f[6], f[7]);
            return;
        }
    /* YYYY-MM-DDTHH:MM:SS+HH:MM, every field in range */
    static const char sep[] = "--T::";
    char *o = out;
    *o++ = (char)('0' + f[0] / 1000), *o++ = (char)('0' + f[0] / 100 % 10);
    *o++ = (char)('0' + f[0] / 10 % 10), *o++ = (char)('0' + f[0] % 10);
    for (int k = 1; k < 6; k++) {
        *o++ = sep[k - 1];
        *o++ = (char)('0' + f[k] / 10), *o++ = (char)('0' + f[k] % 10);
    }
    *o++ = zone_min < 0 ? '-' : '+';
    *o++ = (char)('0' + f[6] / 10), *o++ = (char)('0' + f[6] % 10), *o++ = ':';
    *o++ = (char)('0' + f[7] / 10), *o++ = (char)('0' + f[7] % 10);
    *o = '\0';
}

int ext_parse_zone(const char *s, int *min)
{
    static const struct { const char *name; int min; } names[] = {
        {"Asia/Shanghai", 480}, {"Asia/Chongqing", 480},
        {"Asia/Hong_Kong", 480}, {"Asia/Taipei", 480}, {"Asia/Macau", 480},
        {"Asia/Singapore", 480}, {"Asia/Tokyo", 540}, {"Asia/Seoul", 540},
        {"UTC", 0}, {"GMT", 0}, {"Z", 0}, {"Etc/UTC", 0}, {"CST", 480}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i].name) == 0) {
            *min = names[i].min;
            return 0;
        }
    if (!strncmp(s, "UTC", 3) || !strncmp(s, "GMT", 3))
        s += 3;
    if (*s != '+' && *s != '-')
        return -1;
    int sign = *s++ == '-' ? -1 : 1, h = 0, m = 0, nd = 0;
    while (*s >= '0' && *s <= '9' && nd < 2)
        h = h * 10 + (*s++ - '0'), nd++;
    if (!nd)
        return -1;
    if (*s == ':')
        s++;
    if (*s) {
        if (s[0] < '0' || s[0] > '5' || s[1] < '0' || s[1] > '9' || s[2])
            return -1;
        m = (s[0] - '0') * 10 + (s[1] - '0');
    }
    if (h > 14)
        return -1;
    *min = sign * (h * 60 + m);
    return 0;
}

/* ---- scanning helpers ---------------------------------------------------- */

typedef struct cur {
    const char *s;
    size_t n, i;
} cur;

static int digits(cur *c, int min, int max, int *v)
{
    int k = 0, x = 0;
    while (c->i + k < c->n && k < max && c->s[c->i + k] >= '0' &&
           c->s[c->i + k] <= '9')
        x = x * 10 + (c->s[c->i + k] - '0'), k++;
    if (k < min || (c->i + k < c->n && c->s[c->i + k] >= '0' &&
                    c->s[c->i + k] <= '9'))
        return 0;
    c->i += k;
    *v = x;
    return 1;
}

static inline __attribute__((always_inline)) int lit(cur *c, const char *p)
{
    if (!ext_starts(c->s + c->i, c->n - c->i, p))
        return 0;
    c->i += strlen(p);
    return 1;
}

static int blanks(cur *c)
{
    size_t l, start = c->i;
    while (c->i < c->n && ext_is_space(c->s + c->i, c->n - c->i, &l))
        c->i += l;
    return c->i > start;
}

/* Reads a UTC offset: Z, +08:00, +0800, +08, GMT+8, UTC.  Leaves c alone
 * and returns 0 when none is there. */
static int offset(cur *c, int *min)
{
    cur t = *c;
    blanks(&t);
    if (lit(&t, "Z") || lit(&t, "UTC") || lit(&t, "GMT") || lit(&t, "UT")) {
        *min = 0;
        cur u = t;
        int m;
        if ((u.i < u.n && (u.s[u.i] == '+' || u.s[u.i] == '-')) &&
            offset(&u, &m)) {
            *min = m;
            t = u;
        }
        *c = t;
        return 1;
    }
    if (t.i >= t.n || (t.s[t.i] != '+' && t.s[t.i] != '-'))
        return 0;
    int sign = t.s[t.i] == '-' ? -1 : 1, h, m = 0;
    t.i++;
    size_t st = t.i;
    if (!digits(&t, 1, 4, &h))
        return 0;
    if (t.i - st == 4)
        m = h % 100, h /= 100;
    else if (t.i - st == 3)
        return 0;
    else if (lit(&t, ":") && !digits(&t, 2, 2, &m))
        return 0;
    if (h > 14 || m > 59)
        return 0;
    *min = sign * (h * 60 + m);
    *c = t;
    return 1;
}

/* Reads an optional time of day after a date: [T| ]HH:MM(:SS)(.fff),
 * HH时MM分(SS秒), HH点(MM分), with 上午/下午/晚上 and AM/PM. */
static void time_of_day(cur *c, ext_dt *dt)
{
    cur t = *c;
    int pm = 0, am = 0, h, mi = 0, s = 0;
    if (!lit(&t, "T"))
        blanks(&t);
    if (lit(&t, "下午") || lit(&t, "晚上") || lit(&t, "傍晚") || lit(&t, "晚"))
        pm = 1;
    else if (lit(&t, "上午") || lit(&t, "早上") || lit(&t, "凌晨") ||
             lit(&t, "中午"))
        am = 1;
    if (!digits(&t, 1, 2, &h))
        return;
    if (lit(&t, ":") || lit(&t, "\xef\xbc\x9a") /* ： */) {
        if (!digits(&t, 2, 2, &mi))
            return;
        cur u = t;
        if ((lit(&u, ":") || lit(&u, "\xef\xbc\x9a")) && digits(&u, 2, 2, &s)) {
            t = u;
            if (lit(&u, ".") && digits(&u, 1, 9, &(int){0}))
                t = u;
        }
    } else if (lit(&t, "时") || lit(&t, "時") || lit(&t, "点") ||
               lit(&t, "點")) {
        cur u = t;
        if (digits(&u, 1, 2, &mi) && (lit(&u, "分") || 1)) {
            t = u;
            cur v = t;
            if (digits(&v, 1, 2, &s) && lit(&v, "秒"))
                t = v;
        }
    } else
        return;
    cur u = t;
    blanks(&u);
    if (lit(&u, "PM") || lit(&u, "pm") || lit(&u, "下午"))
        pm = 1, t = u;
    else if (lit(&u, "AM") || lit(&u, "am") || lit(&u, "上午"))
        am = 1, t = u;
    if (pm && h < 12)
        h += 12;
    if (am && h == 12)
        h = 0;
    if (h > 23 || mi > 59 || s > 60)
        return;
    dt->h = h, dt->mi = mi, dt->s = s, dt->has_time = 1;
    *c = t;
    int off;
    if (offset(c, &off))
        dt->has_off = 1, dt->off_min = off;
}

static int valid_ymd(const ext_dt *dt)
{
    return dt->y >= 1900 && dt->y <= 2200 && dt->mo >= 1 && dt->mo <= 12 &&
           dt->d >= 1 && dt->d <= days_in_month(dt->y, dt->mo);
}

/* 2025-03-05, 2025/02/04, 2025.3.5 and 2025年02月06日, each with an
 * optional time of day. */
static size_t numeric_ymd(cur c, ext_dt *dt)
{
    int y, m, d;
    if (!digits(&c, 4, 4, &y))
        return 0;
    const char *seps[] = {"-", "/", ".", "年"};
    size_t k;
    for (k = 0; k < 4 && !lit(&c, seps[k]); k++)
        ;
    if (k == 4)
        return 0;
    if (k == 3)
        blanks(&c);
    if (!digits(&c, 1, 2, &m))
        return 0;
    if (k == 3) {
        blanks(&c);
        if (!lit(&c, "月"))
            return 0;
        blanks(&c);
    } else if (!lit(&c, seps[k]))
        return 0;
    if (!digits(&c, 1, 2, &d))
        return 0;
    if (k == 3 && !lit(&c, "日"))
        lit(&c, "号");
    dt->y = y, dt->mo = m, dt->d = d, dt->has_year = 1;
    if (!valid_ymd(dt))
        return 0;
    time_of_day(&c, dt);
    return c.i;
}

/* 3月26日 / 09月07日 / 03-05 10:05 (a year-less date; month-day with a
 * dash only when a time follows). */
static size_t month_day(cur c, const ext_dref *ref, ext_dt *dt)
{
    int m, d, dash = 0;
    if (!digits(&c, 1, 2, &m))
        return 0;
    if (lit(&c, "月"))
        ;
    else if (lit(&c, "-"))
        dash = 1;
    else
        return 0;
    if (!digits(&c, 1, 2, &d))
        return 0;
    if (!dash && !lit(&c, "日") && !lit(&c, "号") && !lit(&c, "號"))
        return 0;
    int year = ref->year;
    if (!year && ref->has_now) {
        ext_dt now;
        ext_dt_from_epoch(ref->now, ref->zone_min, &now);
        year = now.y;
        /* A year-less date after "now" was written last year. */
        if (m > now.mo || (m == now.mo && d > now.d + 1))
            year--;
    }
    if (!year)
        return 0;
    dt->y = year, dt->mo = m, dt->d = d;
    if (!valid_ymd(dt))
        return 0;
    time_of_day(&c, dt);
    if (dash && !dt->has_time)
        return 0;
    return c.i;
}

static int month_name(cur *c)
{
    static const char *mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    for (int i = 0; i < 12; i++)
        if (lit(c, mon[i])) {
            while (c->i < c->n && c->s[c->i] >= 'a' && c->s[c->i] <= 'z')
                c->i++;
            lit(c, ".");
            return i + 1;
        }
    return 0;
}

/* RFC 2822 (feeds): [Wed, ]05 Mar 2025 10:05:00 +0800. */
static size_t rfc2822(cur c, ext_dt *dt)
{
    static const char *days[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat",
                                 "Sun"};
    for (int i = 0; c.i < c.n && c.s[c.i] >= 'A' && c.s[c.i] <= 'Z' && i < 7; i++)
        if (lit(&c, days[i])) {
            while (c.i < c.n && c.s[c.i] >= 'a' && c.s[c.i] <= 'z')
                c.i++;
            lit(&c, ",");
            blanks(&c);
            break;
        }
    int d, y;
    if (!digits(&c, 1, 2, &d) || !blanks(&c))
        return 0;
    if (!(dt->mo = month_name(&c)) || !blanks(&c) || !digits(&c, 4, 4, &y))
        return 0;
    dt->y = y, dt->d = d, dt->has_year = 1;
    if (!valid_ymd(dt))
        return 0;
    time_of_day(&c, dt);
    return c.i;
}

/* 刚刚, N秒/分钟/小时/天前, 半小时前, 今天/昨天/前天 [HH:MM]. */
static size_t relative(cur c, const ext_dref *ref, ext_dt *dt)
{
    if (!ref->has_now)
        return 0;
    int64_t t = ref->now;
    if (lit(&c, "刚刚") || lit(&c, "剛剛")) {
        ext_dt_from_epoch(t, ref->zone_min, dt);
        return c.i;
    }
    static const struct { const char *w; int back; } dayw[] = {
        {"今天", 0}, {"今日", 0}, {"昨天", 1}, {"昨日", 1}, {"前天", 2}};
    for (size_t k = 0; k < sizeof dayw / sizeof dayw[0]; k++)
        if (lit(&c, dayw[k].w)) {
            ext_dt_from_epoch(t - dayw[k].back * 86400, ref->zone_min, dt);
            dt->h = dt->mi = dt->s = 0;
            dt->has_time = 0;
            time_of_day(&c, dt);
            return c.i;
        }
    double v;
    size_t l;
    if (lit(&c, "半"))
        v = 0.5;
    else if ((l = ext_number_parse(c.s + c.i, c.n - c.i, &v)) > 0)
        c.i += l;
    else
        return 0;
    if (v < 0 || v > 100000 || c.i >= c.n || (unsigned char)c.s[c.i] < 0x80)
        return 0;
    size_t ul;
    switch (ext_utf8_next(c.s + c.i, c.n - c.i, &ul)) {
    case 0x4E2A: case 0x500B: case 0x79D2: case 0x5206: /* 个個秒分 */
    case 0x5C0F: case 0x949F: case 0x5929: break;       /* 小钟天 */
    default: return 0; /* no unit word can follow */
    }
    (void)(lit(&c, "个") || lit(&c, "個"));
    static const struct { const char *w; int sec; } units[] = {
        {"秒钟", 1}, {"秒鐘", 1}, {"秒", 1}, {"分钟", 60}, {"分鐘", 60},
        {"小时", 3600}, {"小時", 3600}, {"钟头", 3600}, {"天", 86400}};
    for (size_t k = 0; k < sizeof units / sizeof units[0]; k++) {
        cur u = c;
        if (lit(&u, units[k].w) && (lit(&u, "前") || lit(&u, "以前"))) {
            ext_dt_from_epoch(t - (int64_t)(v * units[k].sec), ref->zone_min,
                              dt);
            return u.i;
        }
    }
    return 0;
}

/* Non-zero when s starts with 刚/剛/今/昨/前/半 (relative forms that need
 * no number). */
static int relative_word(const char *s, size_t n)
{
    size_t l;
    switch (ext_utf8_next(s, n, &l)) {
    case 0x521A: case 0x525B: case 0x4ECA: case 0x6628: case 0x524D:
    case 0x534A:
        return 1;
    default:
        return 0;
    }
}

/* Zero when no relative expression (3小时前, 三十分钟前, 1.5万秒前) can be
 * read at s: its number (digits, numerals, units, separators) must run
 * into a time unit (个/秒/分/小时/钟头/天), which is looked for here. */
static int relative_may(const char *s, size_t n)
{
    size_t i = 0, l;
    while (i < n) {
        unsigned char b = (unsigned char)s[i];
        if (b < 0x80) {
            if ((b >= '0' && b <= '9') || b == ',' || b == '.' || b == ' ' ||
                b == 'k' || b == 'K' || b == 'w' || b == 'W') {
                i++;
                continue;
            }
            return 0;
        }
        switch (ext_utf8_next(s + i, n - i, &l)) {
        case 0x4E2A: case 0x500B: case 0x79D2: case 0x5206: case 0x5C0F:
        case 0x949F: case 0x5929: /* 个個秒分小钟天: a unit may follow */
            return 1;
        case 0xFF0C: /* ， */
        case 0x96F6: case 0x3007: case 0x4E00: case 0x58F9: case 0x5E7A:
        case 0x4E8C: case 0x8D30: case 0x8CB3: case 0x4E24: case 0x5169:
        case 0x4E09: case 0x53C1: case 0x53C3: case 0x56DB: case 0x8086:
        case 0x4E94: case 0x4F0D: case 0x516D: case 0x9646: case 0x9678:
        case 0x4E03: case 0x67D2: case 0x516B: case 0x634C: case 0x4E5D:
        case 0x7396: case 0x5341: case 0x62FE: case 0x767E: case 0x4F70:
        case 0x5343: case 0x4EDF: case 0x4E07: case 0x842C: case 0x4EBF:
        case 0x5104: case 0x51E0: case 0x5E7E: case 0x6570: case 0x6578:
        case 0x591A: case 0x4F59: case 0x9918:
        /* the numerals, units, 几数 and 多余 a number may hold */
            i += l;
            continue;
        default:
            return 0;
        }
    }
    return 0;
}

/* Zero when no date starts at the digit s[0] for what follows its digit
 * run: 2025-/./ / 年 (four digits), 05 Mar / 3月 / 09-07 (one or two),
 * or a number going on into a relative unit (3小时前, 1.5万秒前 ...). */
static int after_digits_ok(const char *s, size_t n, int has_now)
{
    size_t k = 0, l;
    while (k < n && s[k] >= '0' && s[k] <= '9')
        k++;
    if (k == n)
        return 0;
    unsigned char b = (unsigned char)s[k];
    if (b < 0x80) {
        if ((k == 4 && (b == '-' || b == '/' || b == '.')) ||
            (k <= 2 && (b == '-' || b == ' ' || (b >= '\t' && b <= '\r'))))
            return 1;
    } else if (k <= 2 && ext_is_space(s + k, n - k, &l)) {
        return 1;
    } else {
        uint32_t c = ext_utf8_next(s + k, n - k, &l);
        if ((c == 0x5E74 && k == 4) || (c == 0x6708 && k <= 2)) /* 年 月 */
            return 1;
    }
    return has_now && relative_may(s, n);
}

/* Zero when no relative expression starts at s (a non-ASCII byte): they
 * begin with 刚刚/剛剛, 今/昨/前 + 天/日, 半 or a Chinese number (a digit
 * 零..九 and its variants, 十百千, 几/数 before a unit). */
static int relative_lead(const char *s, size_t n)
{
    size_t l;
    switch (ext_utf8_next(s, n, &l)) {
    case 0x521A: case 0x525B: case 0x4ECA: case 0x6628: case 0x524D:
    case 0x534A: /* 刚剛今昨前半 */
    case 0x96F6: case 0x3007: case 0x4E00: case 0x58F9: case 0x5E7A:
    case 0x4E8C: case 0x8D30: case 0x8CB3: case 0x4E24: case 0x5169:
    case 0x4E09: case 0x53C1: case 0x53C3: case 0x56DB: case 0x8086:
    case 0x4E94: case 0x4F0D: case 0x516D: case 0x9646: case 0x9678:
    case 0x4E03: case 0x67D2: case 0x516B: case 0x634C: case 0x4E5D:
    case 0x7396: /* 零〇一壹幺二贰貳两兩三叁參四肆五伍六陆陸七柒八捌九玖 */
    case 0x5341: case 0x62FE: case 0x767E: case 0x4F70: case 0x5343:
    case 0x4EDF: /* 十拾百佰千仟 */
    case 0x51E0: case 0x5E7E: case 0x6570: case 0x6578: /* 几幾数數 */
        return 1;
    default:
        return 0;
    }
}

size_t ext_date_parse(const char *s, size_t n, const ext_dref *ref,
                      int strict_ymd, ext_dt *out)
{
    cur c = {s, n, 0};
    ext_dt dt;
    size_t l = 0;
    if (!n)
        return 0;
    memset(&dt, 0, sizeof dt);
    unsigned char ch = (unsigned char)s[0];
    if (ch >= '0' && ch <= '9') {
        /* what follows the leading digits decides which forms can apply */
        size_t k = 0;
        while (k < n && k < 5 && s[k] >= '0' && s[k] <= '9')
            k++;
        if (k == n || (k < 4 && (unsigned char)s[k] < 0x80 && s[k] != '-' &&
                       s[k] != ' ') ||
            !after_digits_ok(s, n, ref->has_now))
            return 0;
        /* each form fails at once unless the digit run has its length
         * (4: 2025-03-05; 1-2: 05 Mar 2025, 3月26日) or the number runs
         * into a time unit (3小时前), so only those are tried */
        size_t run = k;
        while (run < n && s[run] >= '0' && s[run] <= '9')
            run++;
        if (!(run == 4 && (l = numeric_ymd(c, &dt))) &&
            !(run <= 2 && (l = rfc2822(c, &dt))) && !strict_ymd) {
            memset(&dt, 0, sizeof dt);
            if (!(run <= 2 && (l = month_day(c, ref, &dt))) &&
                relative_may(s, n))
                l = relative(c, ref, &dt);
        }
    } else if (ch >= 'A' && ch <= 'Z') {
        l = rfc2822(c, &dt);
    } else if (ch >= 0x80 && !strict_ymd && ref->has_now &&
               relative_lead(s, n) && (relative_word(s, n) || relative_may(s, n))) {
        l = relative(c, ref, &dt);
    }
    if (l)
        *out = dt;
    return l;
}

long ext_date_find(const char *s, size_t n, const ext_dref *ref, ext_dt *out,
                   size_t *mlen)
{
    int prev_alnum = 0;
    for (size_t i = 0; i < n;) {
        unsigned char ch = (unsigned char)s[i];
        int alnum = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
                    (ch >= 'A' && ch <= 'Z');
        /* the cheap tests of ext_date_parse first: most positions of a
         * line start no date */
        int may = ch >= 0xE0 ? ref->has_now && relative_lead(s + i, n - i) &&
                                   (relative_word(s + i, n - i) ||
                                    relative_may(s + i, n - i))
                  : ch <= '9' ? alnum && after_digits_ok(s + i, n - i, ref->has_now)
                              : ch >= 'A' && ch <= 'Z';
        if (!prev_alnum && may) {
            size_t l = ext_date_parse(s + i, n - i, ref, 0, out);
            if (l) {
                *mlen = l;
                return (long)i;
            }
        }
        prev_alnum = alnum;
        size_t cl;
        ext_utf8_next(s + i, n - i, &cl);
        i += cl;
    }
    return -1;
}

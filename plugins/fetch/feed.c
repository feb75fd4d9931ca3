/*
 * feed.c - RSS 2.0 / RSS 1.0 / Atom documents to (link, date) items, with
 * libxml2.  Network access and entity expansion are off: a feed is data.
 */
#include <ctype.h>
#include <curl/curl.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fetch.h"

static int is_elem(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE &&
           !xmlStrcmp(n->name, (const xmlChar *)name);
}

static xmlNode *child(const xmlNode *n, const char *name)
{
    for (xmlNode *c = n->children; c; c = c->next)
        if (is_elem(c, name))
            return c;
    return NULL;
}

/* The trimmed text of n in out (outlen bytes); "" when n is NULL. */
static const char *text_of(const xmlNode *n, char *out, size_t outlen)
{
    out[0] = '\0';
    if (!n)
        return out;
    xmlChar *t = xmlNodeGetContent(n);
    if (!t)
        return out;
    const char *s = (const char *)t;
    while (isspace((unsigned char)*s))
        s++;
    size_t len = strlen(s);
    while (len && isspace((unsigned char)s[len - 1]))
        len--;
    snprintf(out, outlen, "%.*s", (int)len, s);
    xmlFree(t);
    return out;
}

/* link resolved against base (when given) into a new string. */
static char *resolve(const char *base, const char *link)
{
    CURLU *u = curl_url();
    char *out = NULL, *got = NULL;
    if (!u)
        return NULL;
    if ((!base || curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK) &&
        curl_url_set(u, CURLUPART_URL, link, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_URL, &got, 0) == CURLUE_OK)
        out = strdup(got);
    else
        out = strdup(link);
    curl_free(got);
    curl_url_cleanup(u);
    return out;
}

/* ---- dates ----------------------------------------------------------------- */

static const char *const months[] = {"jan", "feb", "mar", "apr", "may",
                                     "jun", "jul", "aug", "sep", "oct",
                                     "nov", "dec"};

/* Minutes east of UTC for an RFC 822 zone; 1 on success. */
static int zone_offset(const char *z, int *minutes)
{
    static const struct { const char *name; int hours; } named[] = {
        {"GMT", 0}, {"UT", 0}, {"UTC", 0}, {"Z", 0}, {"EST", -5},
        {"EDT", -4}, {"CST", -6}, {"CDT", -5}, {"MST", -7}, {"MDT", -6},
        {"PST", -8}, {"PDT", -7}};
    if ((z[0] == '+' || z[0] == '-') && isdigit((unsigned char)z[1])) {
        int hh, mm;
        if (sscanf(z + 1, "%2d:%2d", &hh, &mm) != 2 &&
            sscanf(z + 1, "%2d%2d", &hh, &mm) != 2)
            return 0;
        *minutes = (z[0] == '-' ? -1 : 1) * (hh * 60 + mm);
        return 1;
    }
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
        if (!strcasecmp(z, named[i].name)) {
            *minutes = named[i].hours * 60;
            return 1;
        }
    return 0;
}

static void format_iso(char *out, size_t outlen, int y, int mo, int d, int h,
                       int mi, int s, int off)
{
    if (off == 0) {
        snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, mo, d, h,
                 mi, s);
        return;
    }
    int a = off < 0 ? -off : off;
    snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", y, mo,
             d, h, mi, s, off < 0 ? '-' : '+', a / 60, a % 60);
}

/* "Wed, 05 Mar 2025 10:05:00 +0800" (weekday and seconds optional). */
static int rfc822(const char *t, char *out, size_t outlen)
{
    char mon[4], zone[16] = "";
    int d, y, h, mi, s = 0, n = 0, off, mo = -1;
    const char *comma = strchr(t, ',');
    if (comma)
        t = comma + 1;
    if (sscanf(t, " %d %3s %d %d:%d%n", &d, mon, &y, &h, &mi, &n) != 5)
        return TJ_EPARSE;
    t += n;
    if (*t == ':' && sscanf(t + 1, "%d%n", &s, &n) == 1)
        t += 1 + n;
    if (sscanf(t, " %15s", zone) != 1 || !zone_offset(zone, &off))
        return TJ_EPARSE;
    for (int i = 0; i < 12; i++)
        if (!strcasecmp(mon, months[i]))
            mo = i + 1;
    if (mo < 0 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
        return TJ_EPARSE;
    if (y < 100)
        y += y < 50 ? 2000 : 1900;
    format_iso(out, outlen, y, mo, d, h, mi, s, off);
    return 0;
}

/* "2025-03-05T10:05:00+08:00", "...Z", fractional seconds dropped. */
static int rfc3339(const char *t, char *out, size_t outlen)
{
    int y, mo, d, h, mi, s, n = 0, off;
    if (sscanf(t, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi,
               &s, &n) != 6)
        return TJ_EPARSE;
    t += n;
    if (*t == '.')
        while (isdigit((unsigned char)*++t))
            ;
    if (!zone_offset(t, &off))
        return TJ_EPARSE;
    format_iso(out, outlen, y, mo, d, h, mi, s, off);
    return 0;
}

int feed_date_iso(const char *text, char *out, size_t outlen)
{
    if (rfc3339(text, out, outlen) == 0)
        return 0;
    return rfc822(text, out, outlen);
}

/* ---- items ------------------------------------------------------------------ */

/* An Atom entry's link: rel="alternate" (or no rel), text/html first. */
static const char *atom_link(const xmlNode *entry, char *out, size_t outlen)
{
    out[0] = '\0';
    for (xmlNode *c = entry->children; c; c = c->next) {
        if (!is_elem(c, "link"))
            continue;
        xmlChar *rel = xmlGetProp(c, (const xmlChar *)"rel");
        xmlChar *href = xmlGetProp(c, (const xmlChar *)"href");
        xmlChar *type = xmlGetProp(c, (const xmlChar *)"type");
        int alternate = !rel || !xmlStrcmp(rel, (const xmlChar *)"alternate");
        int html = !type || xmlStrstr(type, (const xmlChar *)"html");
        if (alternate && href && (!out[0] || html))
            snprintf(out, outlen, "%s", (const char *)href);
        xmlFree(rel);
        xmlFree(href);
        xmlFree(type);
        if (out[0] && html)
            break;
    }
    return out;
}

/* An RSS item's link, or its guid when that is a permalink. */
static const char *rss_link(const xmlNode *item, char *out, size_t outlen)
{
    text_of(child(item, "link"), out, outlen);
    xmlNode *guid = child(item, "guid");
    if (out[0] || !guid)
        return out;
    xmlChar *perma = xmlGetProp(guid, (const xmlChar *)"isPermaLink");
    int no = perma && !xmlStrcmp(perma, (const xmlChar *)"false");
    xmlFree(perma);
    if (!no)
        text_of(guid, out, outlen);
    return out;
}

static int one_item(const xmlNode *item, int atom, const char *base,
                    feed_item_fn fn, void *arg)
{
    char link[4096], date[256], iso[64];
    const char *dates[] = {"pubDate", "published", "date", "updated", NULL};
    if (atom)
        atom_link(item, link, sizeof link);
    else
        rss_link(item, link, sizeof link);
    date[0] = '\0';
    for (int i = 0; dates[i] && !date[0]; i++)
        text_of(child(item, dates[i]), date, sizeof date);
    if (!link[0])
        return 0;
    char *url = resolve(base, link);
    if (!url)
        return TJ_ENOMEM;
    const char *when = !date[0] ? NULL
                       : feed_date_iso(date, iso, sizeof iso) == 0 ? iso
                                                                   : date;
    int rc = fn(arg, url, when);
    free(url);
    return rc;
}

int feed_parse(const char *data, size_t n, const char *base_url,
               feed_item_fn fn, void *arg, char *err, size_t errlen)
{
    int opts = XML_PARSE_NONET | XML_PARSE_RECOVER | XML_PARSE_NOERROR |
               XML_PARSE_NOWARNING;
    xmlDoc *doc = n < (size_t)1 << 30 ? xmlReadMemory(data, (int)n, base_url,
                                                      NULL, opts)
                                      : NULL;
    xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
    xmlNode *list = NULL;
    int atom = 0, items = 0, rc = 0;
    if (root && is_elem(root, "rss"))
        list = child(root, "channel");
    else if (root && (is_elem(root, "RDF") || is_elem(root, "feed")))
        list = root, atom = is_elem(root, "feed");
    if (!list) {
        snprintf(err, errlen, "not an RSS or Atom feed%s%s%s",
                 root ? " (root element <" : "",
                 root ? (const char *)root->name : "", root ? ">)" : "");
        xmlFreeDoc(doc);
        return TJ_EPARSE;
    }
    for (xmlNode *c = list->children; c && !rc; c = c->next)
        if (is_elem(c, atom ? "entry" : "item")) {
            items++;
            rc = one_item(c, atom, base_url, fn, arg);
        }
    xmlFreeDoc(doc);
    return rc ? rc : items;
}

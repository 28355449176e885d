/* util - small shared pieces of the rewriter: status texts, enum names,
 * default limits, one-time library initialisation, the blank GIF.
 *
 * rw_init() runs gmime and libxml2 initialisation exactly once (GOnce), so
 * any number of threads may call it; everything else here is constant. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include <glib.h>
#include <gmime/gmime.h>
#include <libxml/parser.h>

#include "rewriter/rw_engine.h"

/* A transparent 1x1 GIF89a (43 bytes), base64. */
const char RW_BLANK_GIF_DATA_URL[] =
    "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7";

const char *rw_strerror(int status)
{
    switch (status) {
    case RW_OK:
        return "success";
    case RW_ENOMEM:
        return "out of memory";
    case RW_EPARSE:
        return "cannot parse input";
    case RW_ELIMIT:
        return "limit exceeded";
    case RW_EINVAL:
        return "invalid argument";
    case RW_ECHARSET:
        return "charset conversion failed";
    case RW_ECALLBACK:
        return "decide callback failed";
    case RW_EAMBIG:
        return "ambiguous MIME structure";
    default:
        return "unknown error";
    }
}

void rw_limits_default(struct rw_limits *lim)
{
    lim->mime_depth = 20;
    lim->max_parts = 500;
    lim->max_part_size = 8u << 20;
    lim->html_depth = 250000;
    lim->max_attr_len = 64u << 10;
    lim->max_url_len = 16u << 10;
    lim->unwrap_depth = 5;
}

static gpointer init_once(gpointer unused)
{
    (void)unused;
    g_mime_init();
    xmlInitParser();
    return NULL;
}

int rw_init(void)
{
    static GOnce once = G_ONCE_INIT;

    g_once(&once, init_once, NULL);
    return RW_OK;
}

const char *rw_ttype_name(enum rw_ttype t)
{
    static const char *const names[RW_T_MAX] = {"pixel", "link", "opaque", "plain",
                                                "protected"};

    return (unsigned)t < RW_T_MAX ? names[t] : "?";
}

const char *rw_action_name(enum rw_action a)
{
    static const char *const names[RW_A_MAX] = {"keep",  "strip",          "anonymous",
                                                "gate",  "deliverability", "unwrap",
                                                "clean", "interstitial"};

    return (unsigned)a < RW_A_MAX ? names[a] : "?";
}

const char *rw_place_name(enum rw_place p)
{
    static const char *const names[RW_P_MAX] = {
        "img",    "srcset",  "background", "css",  "import",   "stylesheet", "input",
        "poster", "vml-img", "a",          "area", "vml-href", "text",      "svg-img",
        "media",  "frame",   "link-res",   "amp-fetch"};

    return (unsigned)p < RW_P_MAX ? names[p] : "?";
}


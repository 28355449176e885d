/* b64 - the one base64 digit table (RFC 4648): both alphabets, standard
 * (§4: '+' '/') and URL-safe (§5: '-' '_'), for the decoders of tokens,
 * URL parameters and recipient search. Encoding uses GLib or the alphabet
 * strings where it happens; this is only the reverse map. No state. */
#ifndef CM_B64_H
#define CM_B64_H

/* Value + 1 of each byte as a base64 digit of either alphabet, 0 if none. */
extern const unsigned char cm_b64_digit[256];

/* cm_b64_value - 0..63 for a digit of either alphabet, else -1. */
static inline int cm_b64_value(unsigned char c)
{
    return (int)cm_b64_digit[c] - 1;
}

/* cm_b64url_value - 0..63 for a digit of the URL-safe alphabet only (a
 * token is canonical base64url: '+' and '/' are refused), else -1. */
static inline int cm_b64url_value(unsigned char c)
{
    return c == '+' || c == '/' ? -1 : cm_b64_value(c);
}

#endif

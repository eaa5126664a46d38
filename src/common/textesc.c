/*
 * textesc — terminal and JSON escaping of outside strings (textesc.h).
 */
#include "common/textesc.h"

#include <string.h>

size_t utf8_seq_len(const unsigned char *p, size_t n)
{
	unsigned char c;
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf; /* allowed range of the second byte */

	if (n == 0)
		return 0;
	c = p[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0; /* overlong below U+0800 */
		else if (c == 0xed)
			hi = 0x9f; /* U+D800..U+DFFF, surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90; /* overlong below U+10000 */
		else if (c == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	} else {
		return 0; /* continuation byte, 0xc0/0xc1 (overlong), 0xf5.. */
	}
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

/* The escape of one character at p (k bytes valid UTF-8, or 0 = one invalid byte) into out:
 * its length, or 0 when the character goes out as it is. */
static size_t esc_one(const unsigned char *p, size_t k, char out[8])
{
	if (k == 0 || (k == 1 && (p[0] < 0x20 || p[0] == 0x7f)) ||
	    (k == 2 && p[0] == 0xc2 && p[1] < 0xa0)) {
		/* an invalid byte, a C0 control or DEL, or a C1 control (U+0080..U+009F: each of
		 * its two bytes is shown) */
		static const char hex[] = "0123456789abcdef";
		size_t m = 0;
		for (size_t i = 0; i < (k ? k : 1); i++) {
			out[m++] = '\\';
			out[m++] = 'x';
			out[m++] = hex[p[i] >> 4];
			out[m++] = hex[p[i] & 15];
		}
		return m;
	}
	if (k == 1 && p[0] == '\\') {
		out[0] = out[1] = '\\';
		return 2;
	}
	return 0;
}

size_t tesc_write(FILE *f, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t cols = 0;

	for (size_t i = 0; i < n;) {
		char e[8];
		size_t k = utf8_seq_len(p + i, n - i), m = esc_one(p + i, k, e);
		if (m) {
			fwrite(e, 1, m, f);
			cols += m;
		} else {
			fwrite(p + i, 1, k, f);
			cols++;
		}
		i += k ? k : 1;
	}
	return cols;
}

const char *tesc(const char *s, char *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), o = 0;
	size_t back[3] = { 0 }; /* where the last three characters began, newest last */
	int nb = 0;

	if (len == 0)
		return buf;
	for (size_t i = 0; i < n;) {
		char e[8];
		size_t k = utf8_seq_len(p + i, n - i), m = esc_one(p + i, k, e);
		const char *src = m ? e : (const char *)p + i;
		size_t w = m ? m : k;
		if (o + w + 1 > len) {
			/* no room: drop whole characters (each at least a byte; three free room
			 * for "...") until "..." fits after them */
			while (o + 4 > len && nb > 0) {
				o = back[2];
				back[2] = back[1];
				back[1] = back[0];
				nb--;
			}
			if (o + 4 <= len) {
				memcpy(buf + o, "...", 3);
				o += 3;
			}
			break;
		}
		back[0] = back[1];
		back[1] = back[2];
		back[2] = o;
		if (nb < 3)
			nb++;
		memcpy(buf + o, src, w);
		o += w;
		i += k ? k : 1;
	}
	buf[o] = '\0';
	return buf;
}

package dev.cairn.signing.authenticode;

import dev.cairn.io.FormatException;

/**
 * A non-recursive walk over DER tag-length-value headers, done before any ASN.1 library sees
 * hostile input: every length must be definite and fit its parent, nesting is bounded (so a
 * parser that recurses cannot overflow the stack), and nothing is allocated from a claimed length.
 */
final class DerScan {
    /** Deeper than any certificate or PKCS#7 structure needs (X.509 is about 10 levels deep). */
    static final int MAX_DEPTH = 48;

    private DerScan() {
    }

    /** Checks that {@code der} is exactly one well-formed definite-length TLV tree. */
    static void check(byte[] der, String what) throws FormatException {
        if (der.length < 2) {
            throw new FormatException(0, what, der.length + " bytes", "too short for DER");
        }
        long[] ends = new long[MAX_DEPTH + 1];
        int depth = 0;
        ends[0] = der.length;
        int pos = 0;
        boolean first = true;
        while (pos < der.length || depth > 0) {
            while (depth > 0 && pos == ends[depth]) {
                depth--;
            }
            if (pos == der.length) {
                break;
            }
            if (!first && depth == 0) {
                throw new FormatException(pos, what, null, "trailing bytes after the DER structure");
            }
            first = false;
            int start = pos;
            int tag = der[pos++] & 0xff;
            if ((tag & 0x1f) == 0x1f) {
                int n = 0;
                while (true) {
                    if (pos >= ends[depth]) {
                        throw new FormatException(start, what, null, "truncated tag");
                    }
                    int b = der[pos++] & 0xff;
                    if (++n > 4) {
                        throw new FormatException(start, what, null, "tag number too large");
                    }
                    if ((b & 0x80) == 0) {
                        break;
                    }
                }
            }
            if (pos >= ends[depth]) {
                throw new FormatException(start, what, null, "truncated length");
            }
            int l0 = der[pos++] & 0xff;
            long len;
            if (l0 < 0x80) {
                len = l0;
            } else if (l0 == 0x80) {
                throw new FormatException(start, what, null, "indefinite length (BER) is not DER");
            } else {
                int n = l0 & 0x7f;
                if (n > 4) {
                    throw new FormatException(start, what, n + " length bytes", "length too large");
                }
                len = 0;
                for (int i = 0; i < n; i++) {
                    if (pos >= ends[depth]) {
                        throw new FormatException(start, what, null, "truncated length");
                    }
                    len = (len << 8) | (der[pos++] & 0xff);
                }
            }
            long end = pos + len;
            if (end > ends[depth]) {
                throw new FormatException(start, what, len, "length runs past the end of its enclosing structure");
            }
            if ((tag & 0x20) != 0) {
                if (depth == MAX_DEPTH) {
                    throw new FormatException(start, what, null, "nested deeper than " + MAX_DEPTH + " levels");
                }
                ends[++depth] = end;
            } else {
                pos = Math.toIntExact(end);
            }
        }
    }
}

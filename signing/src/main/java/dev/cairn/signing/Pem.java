package dev.cairn.signing;

import java.util.Base64;

/** PEM armour as OpenSSL writes it: 64-column base64 between BEGIN/END lines, newline-terminated. */
public final class Pem {
    private Pem() {
    }

    public static String encode(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der) + "\n-----END "
                + type + "-----\n";
    }
}

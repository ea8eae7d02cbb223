package dev.cairn.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.UUID;

/**
 * Random bytes for salts and UUIDs from the kernel's generator ({@code /dev/urandom}, what the
 * JDK's default SecureRandom reads on Linux too), without setting up the JCA's providers for it
 * (some 10 ms of a short command). Where that device is missing or unreadable: SecureRandom.
 */
public final class Randomness {
    private static final Path URANDOM = Path.of("/dev/urandom");

    private Randomness() {
    }

    /** {@code n} random bytes. */
    public static byte[] bytes(int n) {
        byte[] b = new byte[n];
        try (InputStream in = Files.newInputStream(URANDOM)) {
            if (in.readNBytes(b, 0, n) == n) {
                return b;
            }
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            // no such device here: the JDK's generator below
        }
        new SecureRandom().nextBytes(b);
        return b;
    }

    /** A random (version 4) UUID, as {@link UUID#randomUUID} makes it. */
    public static UUID uuid() {
        return version4(bytes(16));
    }

    /** The first 16 bytes of {@code b} as a version 4 UUID (RFC 4122 version and variant bits set; {@code b} is changed). */
    public static UUID version4(byte[] b) {
        b[6] = (byte) ((b[6] & 0x0f) | 0x40);
        b[8] = (byte) ((b[8] & 0x3f) | 0x80);
        long msb = 0;
        long lsb = 0;
        for (int i = 0; i < 8; i++) {
            msb = msb << 8 | (b[i] & 0xff);
            lsb = lsb << 8 | (b[8 + i] & 0xff);
        }
        return new UUID(msb, lsb);
    }
}

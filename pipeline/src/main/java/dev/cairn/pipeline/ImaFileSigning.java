package dev.cairn.pipeline;

import dev.cairn.signing.ImaSignature;
import dev.cairn.signing.KeyMaterial;
import dev.cairn.squashfs.EntryAttributes;
import dev.cairn.squashfs.EntryMetadata;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code rootfs.ima}: sets {@code security.ima} (IMA signature v2, as {@code evmctl ima_sign})
 * on the image's regular files, from the content digest the SquashFS writer computes while it
 * reads each file (content is read once). A signature from the source is replaced; files not
 * chosen keep what they have. Files with the same content share one signature (RSA PKCS#1 v1.5 is
 * deterministic, so this changes no byte).
 */
final class ImaFileSigning implements EntryAttributes {
    static final String XATTR = "security.ima";
    private final KeyMaterial key;
    private final BuildSpec.Ima spec;
    private final ConcurrentHashMap<ByteBuffer, byte[]> byDigest = new ConcurrentHashMap<>();
    private final AtomicLong signed = new AtomicLong();

    ImaFileSigning(KeyMaterial key, BuildSpec.Ima spec) {
        this.key = key;
        this.spec = spec;
    }

    @Override
    public String contentDigest() {
        return spec.hash().jcaName();
    }

    @Override
    public SortedMap<String, byte[]> attributes(String path, int type, EntryMetadata meta, byte[] digest) throws IOException {
        if (type != S_IFREG || spec.files() == BuildSpec.ImaFiles.EXECUTABLES && (meta.mode() & 0111) == 0) {
            return meta.xattrs();
        }
        if (digest == null) {
            throw new IllegalStateException(path + ": no content digest");
        }
        byte[] sig = byDigest.get(ByteBuffer.wrap(digest));
        if (sig == null) {
            // a token (PKCS#11) is not asked from several threads at once
            if (key.provider() != null) {
                synchronized (key) {
                    sig = ImaSignature.signDigest(digest, spec.hash(), key);
                }
            } else {
                sig = ImaSignature.signDigest(digest, spec.hash(), key);
            }
            byte[] prev = byDigest.putIfAbsent(ByteBuffer.wrap(digest.clone()), sig);
            sig = prev != null ? prev : sig;
        }
        signed.incrementAndGet();
        SortedMap<String, byte[]> x = new TreeMap<>(meta.xattrs());
        x.put(XATTR, sig);
        return x;
    }

    /** Files signed so far. */
    long signed() {
        return signed.get();
    }
}

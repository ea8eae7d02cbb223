package dev.cairn.pipeline.uki;

import dev.cairn.io.AtomicOutput;
import dev.cairn.pipeline.PipelineException;
import dev.cairn.io.FormatException;
import dev.cairn.signing.KeyMaterial;
import dev.cairn.signing.SigningException;
import dev.cairn.signing.authenticode.AuthenticodeSignature;
import dev.cairn.signing.authenticode.AuthenticodeSigner;
import dev.cairn.signing.authenticode.AuthenticodeVerifier;
import dev.cairn.uki.UkiFile;
import dev.cairn.uki.pe.AuthenticodeHash;
import dev.cairn.uki.pe.ImageSigner;
import dev.cairn.uki.pe.PeImage;
import dev.cairn.uki.pe.PeSignatures;
import dev.cairn.uki.pe.WinCertificate;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

/**
 * Composes the PE side ({@code uki-builder}: image digest, certificate table) with the signing
 * side ({@code signing}: Authenticode PKCS#7 from a key source). Every signed output is checked
 * before it replaces anything: its signatures are parsed and the new one verified against the
 * signer certificate over the image digest.
 */
public final class PeSigning {
    private PeSigning() {
    }

    /** An {@link ImageSigner} backed by a key source. */
    public static ImageSigner signer(KeyMaterial km) {
        return (alg, digest) -> AuthenticodeSigner.sign(digest, alg, km);
    }

    /**
     * Writes {@code in} to {@code out} (atomically; {@code out} may equal {@code in}) with its
     * signatures changed: {@code keep} decides which existing ones stay, {@code km} (nullable)
     * adds one more.
     */
    public static int rewrite(Path in, Path out, KeyMaterial km, String digestAlgorithm, java.util.function.IntPredicate keep)
            throws IOException {
        try (AtomicOutput o = AtomicOutput.open(out)) {
            int n = rewriteInto(in, o, km, digestAlgorithm, keep);
            o.commit();
            return n;
        }
    }

    /**
     * {@link #rewrite} written and checked but not committed: {@link Rewritten#commit()} puts it
     * under {@code out}, closing without committing deletes it. Lets a batch prepare several
     * images ahead and still commit them in order.
     */
    public static Rewritten prepareRewrite(Path in, Path out, KeyMaterial km, String digestAlgorithm,
                                           java.util.function.IntPredicate keep) throws IOException {
        AtomicOutput o = AtomicOutput.open(out);
        try {
            return new Rewritten(o, rewriteInto(in, o, km, digestAlgorithm, keep));
        } catch (IOException | RuntimeException e) {
            o.close();
            throw e;
        }
    }

    /** A rewritten image waiting under a temporary name, with its signature count. */
    public record Rewritten(AtomicOutput output, int signatures) implements AutoCloseable {
        /** Flushes the new image to disk ahead of {@link #commit()} (see {@link AtomicOutput#flush()}). */
        public void flush() throws IOException {
            output.flush();
        }

        public void commit() throws IOException {
            output.commit();
        }

        @Override
        public void close() throws IOException {
            output.close();
        }
    }

    /** {@link #rewrite} into {@code o}'s temporary file, checked but not committed; returns the signature count. */
    private static int rewriteInto(Path in, AtomicOutput o, KeyMaterial km, String digestAlgorithm,
                                   java.util.function.IntPredicate keep) throws IOException {
        try (FileChannel ch = FileChannel.open(in, StandardOpenOption.READ)) {
            PeImage image = PeImage.read(ch);
            List<WinCertificate> table = new ArrayList<>();
            List<WinCertificate> old = PeSignatures.list(image, ch);
            for (int i = 0; i < old.size(); i++) {
                if (keep.test(i)) {
                    table.add(old.get(i));
                }
            }
            byte[] digest = null;
            if (km != null) {
                digest = AuthenticodeHash.compute(image, ch, digestAlgorithm);
                table.add(WinCertificate.pkcs7(AuthenticodeSigner.sign(digest, digestAlgorithm, km)));
            }
            PeSignatures.rewrite(image, ch, o.channel(), table);
            if (km != null) {
                verifyOutput(o.tempPath(), digest, digestAlgorithm, km.certificate());
            }
            return table.size();
        }
    }

    /**
     * Checks the written file before it replaces anything: its headers parse, its certificate
     * table holds the signature just made, and that signature verifies with the signer
     * certificate over {@code digest} (the digest computed while the bytes were written).
     */
    static void verifyOutput(Path file, byte[] digest, String alg, X509Certificate cert) throws IOException {
        UkiFile f = UkiFile.open(file);
        List<WinCertificate> sigs = f.signatures();
        if (sigs.isEmpty()) {
            throw new IllegalStateException("signed output has no certificate table");
        }
        try {
            AuthenticodeVerifier.verify(sigs.get(sigs.size() - 1).certificate(), digest, List.of(cert));
        } catch (SigningException e) {
            throw new IllegalStateException("cairn produced a signature it cannot verify: " + e.getMessage(), e);
        }
    }

    /** One signature as found in an image, with whether it covers the image as it is now. */
    public record Found(int index, AuthenticodeSignature signature, boolean digestMatches) {
    }

    public static List<Found> signatures(UkiFile f) throws IOException {
        List<Found> out = new ArrayList<>();
        List<WinCertificate> sigs = f.signatures();
        for (int i = 0; i < sigs.size(); i++) {
            WinCertificate w = sigs.get(i);
            if (w.certificateType() != WinCertificate.TYPE_PKCS_SIGNED_DATA) {
                throw new FormatException("WIN_CERTIFICATE[" + i + "].wCertificateType", w.certificateType(), "not PKCS_SIGNED_DATA");
            }
            AuthenticodeSignature s = AuthenticodeSignature.parse(w.certificate());
            byte[] digest = f.authenticodeDigest(s.digest().jcaName());
            out.add(new Found(i, s, java.util.Arrays.equals(digest, s.imageDigest())));
        }
        return out;
    }

    /** Verifies that some signature of {@code f} is by a trusted certificate over the current image. */
    public static AuthenticodeVerifier.Verified verify(UkiFile f, List<X509Certificate> trusted) throws IOException {
        List<WinCertificate> sigs = f.signatures();
        if (sigs.isEmpty()) {
            throw new PipelineException(PipelineException.Kind.VERIFICATION_FAILED, f.path() + ": no signature table present");
        }
        List<String> why = new ArrayList<>();
        for (int i = 0; i < sigs.size(); i++) {
            try {
                AuthenticodeSignature s = AuthenticodeSignature.parse(sigs.get(i).certificate());
                return AuthenticodeVerifier.verify(sigs.get(i).certificate(), f.authenticodeDigest(s.digest().jcaName()), trusted);
            } catch (SigningException | FormatException e) {
                why.add("signature " + i + ": " + e.getMessage());
            }
        }
        throw new PipelineException(PipelineException.Kind.VERIFICATION_FAILED, f.path() + ": no signature verifies: " + String.join("; ", why));
    }

    /**
     * A temporary copy of a PE image with one more signature (the kernel for --sign-kernel),
     * beside {@code besides}: read it at {@link AtomicOutput#tempPath()}, and close it (never
     * commit it) to delete it. Like every AtomicOutput's, the file is deleted on Ctrl-C too.
     */
    public static AtomicOutput signedCopy(Path pe, Path besides, KeyMaterial km, String alg) throws IOException {
        AtomicOutput o = AtomicOutput.open(besides.toAbsolutePath().resolveSibling(".cairn-kernel.efi"));
        try {
            rewriteInto(pe, o, km, alg, i -> true);
            return o;
        } catch (IOException | RuntimeException e) {
            o.close();
            throw e;
        }
    }
}

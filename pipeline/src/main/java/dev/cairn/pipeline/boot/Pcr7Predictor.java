package dev.cairn.pipeline.boot;

import dev.cairn.io.FormatException;
import dev.cairn.io.LittleEndian;
import dev.cairn.pipeline.PipelineException;
import dev.cairn.signing.SigningException;
import dev.cairn.signing.secureboot.EfiSignatureList;
import dev.cairn.signing.secureboot.OvmfVarStore;
import dev.cairn.signing.secureboot.Pcr7Prediction;
import dev.cairn.uki.UkiFile;
import dev.cairn.uki.pe.WinCertificate;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * PCR 7 of a Secure Boot machine before it boots: the key store (an OVMF variable store, or the
 * PK/KEK/db/dbx signature lists) and the images the firmware verifies, in load order (the UKI,
 * then its add-ons), give the firmware's event log and the PCR value per bank.
 */
public final class Pcr7Predictor {
    /** The log and, per image, the db entry that verified it. */
    public record Result(List<Pcr7Prediction.Event> events, List<EfiSignatureList.Entry> authorities) {
        public Result {
            events = List.copyOf(events);
            authorities = List.copyOf(authorities);
        }
    }

    private Pcr7Predictor() {
    }

    /** The Secure Boot variables of an OVMF variable store ({@code OVMF_VARS*.fd}). */
    public static Pcr7Prediction.Variables fromVarStore(Path fd) throws IOException {
        long size = Files.size(fd);
        if (size > 64L << 20) {
            throw new FormatException(fd.toString(), size, "is larger than any OVMF variable store (64 MiB cap)");
        }
        return Pcr7Prediction.Variables.of(OvmfVarStore.read(Files.readAllBytes(fd)));
    }

    /**
     * The variables from signature-list files: {@code .esl} as {@code cert-to-efi-sig-list} writes
     * them, or {@code .auth} updates (the EFI_TIME and WIN_CERTIFICATE_UEFI_GUID header is skipped).
     * {@code dbx} may be null (absent: measured with no data).
     */
    public static Pcr7Prediction.Variables fromSignatureLists(Path pk, Path kek, Path db, Path dbx) throws IOException {
        return new Pcr7Prediction.Variables(1, lists(pk, "PK"), lists(kek, "KEK"), lists(db, "db"), dbx == null ? null : lists(dbx, "dbx"), null);
    }

    static byte[] lists(Path file, String variable) throws IOException {
        long size = Files.size(file);
        if (size > 16L << 20) {
            throw new FormatException(file.toString(), size, variable + " signature lists larger than 16 MiB");
        }
        byte[] b = Files.readAllBytes(file);
        // .auth: EFI_TIME (16) ‖ WIN_CERTIFICATE_UEFI_GUID {u32 dwLength, u16 0x0200, u16 0x0EF1, GUID, PKCS#7} ‖ lists
        if (b.length >= 24 && LittleEndian.u16(b, 20, "wRevision") == 0x0200 && LittleEndian.u16(b, 22, "wCertificateType") == 0x0EF1) {
            long dw = LittleEndian.u32(b, 16, "dwLength");
            if (dw < 24 || 16 + dw > b.length) {
                throw new FormatException(16, file + " dwLength", dw, "runs past the .auth file");
            }
            b = Arrays.copyOfRange(b, Math.toIntExact(16 + dw), b.length);
        }
        EfiSignatureList.parseAll(b, variable); // refuse what the firmware could not parse either
        return b;
    }

    /**
     * The db entry that accepts an image signed with this certificate chain (leaf first), before
     * the image is signed (split builds): {@link Pcr7Prediction#authority(Pcr7Prediction.Variables, List)}.
     */
    public static EfiSignatureList.Entry authorityFor(Pcr7Prediction.Variables v, List<java.security.cert.X509Certificate> chain)
            throws IOException {
        try {
            return Pcr7Prediction.authority(v, chain);
        } catch (SigningException e) {
            throw new PipelineException(PipelineException.Kind.VERIFICATION_FAILED, e.getMessage(), e);
        }
    }

    /** The PCR 7 log for these images, verified by the firmware in this order. */
    public static Result predict(Pcr7Prediction.Variables v, List<Path> images) throws IOException {
        List<EfiSignatureList.Entry> authorities = new ArrayList<>();
        for (Path image : images) {
            UkiFile f = UkiFile.open(image);
            List<byte[]> sigs = new ArrayList<>();
            for (WinCertificate w : f.signatures()) {
                if (w.certificateType() == WinCertificate.TYPE_PKCS_SIGNED_DATA) {
                    sigs.add(w.certificate());
                }
            }
            try {
                authorities.add(Pcr7Prediction.authority(v, sigs, alg -> {
                    try {
                        return f.authenticodeDigest(alg);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }));
            } catch (UncheckedIOException e) {
                throw e.getCause();
            } catch (SigningException e) {
                throw new PipelineException(PipelineException.Kind.VERIFICATION_FAILED,
                        image + ": the firmware would refuse it: " + e.getMessage(), e);
            }
        }
        return new Result(Pcr7Prediction.events(v, authorities), authorities);
    }
}

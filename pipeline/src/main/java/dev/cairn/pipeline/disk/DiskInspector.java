package dev.cairn.pipeline.disk;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cairn.disk.DpsType;
import dev.cairn.disk.FatFile;
import dev.cairn.disk.FatReader;
import dev.cairn.disk.GptEntry;
import dev.cairn.disk.GptTable;
import dev.cairn.io.FormatException;
import dev.cairn.signing.CmsVerifier;
import dev.cairn.signing.SigningException;
import dev.cairn.verity.VerifyResult;
import dev.cairn.verity.VerityVerifier;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;

/**
 * A Discoverable Disk Image looked at the way systemd-dissect looks at it, and checked: the
 * partitions with their DPS designators, the root hash recomputed from the root and root-verity
 * partitions (the whole tree verified against the hash their UUIDs imply), the root-verity-sig
 * partition's JSON (its root hash, and its PKCS#7 signature when certificates are given), and the
 * ESP's files. Reads hostile input: a malformed table or file system is a {@link FormatException}.
 */
public final class DiskInspector {
    /** systemd refuses larger signature partitions (-EFBIG). */
    static final long MAX_SIG_PARTITION = 4L << 20;
    static final int MAX_ESP_FILES = 4096;
    /** An extension image systemd-stub packs into the initrd's /.extra/sysext/ (and measures into PCR 13): UKI.efi.extra.d/NAME.raw. */
    static final java.util.regex.Pattern STUB_ADD_ON = java.util.regex.Pattern.compile("(?i)/EFI/.+\\.EFI\\.extra\\.d/[^/]+\\.raw");

    private DiskInspector() {
    }

    /** One GPT entry as the inspector shows it. */
    public record Partition(int number, String designator, UUID type, UUID uuid, String label, long attributes, List<String> flags,
                            long offset, long size) {
        public Partition {
            flags = List.copyOf(flags);
        }
    }

    /** One thing checked: {@code ok} false means the image disagrees with itself (or the given certificates). */
    public record Check(String what, boolean ok, String detail) {
    }

    /** A file of the ESP with its size and SHA-256. */
    public record EspFile(String path, long size, String sha256) {
    }

    /**
     * @param format     {@code raw} or {@code vhd} (a fixed-VHD footer follows the disk)
     * @param rootHash   the root hash the root and root-verity partition UUIDs imply, or null without them
     * @param signedRootHash the root hash in the signature partition, or null
     * @param signature  the signature partition's DER PKCS#7, or null
     */
    public record Report(Path image, String format, long rawSize, UUID diskGuid, List<Partition> partitions, String rootHash,
                         String signedRootHash, byte[] signature, List<EspFile> espFiles, List<Check> checks) {
        public Report {
            partitions = List.copyOf(partitions);
            espFiles = List.copyOf(espFiles);
            checks = List.copyOf(checks);
            signature = signature == null ? null : signature.clone();
        }

        @Override
        public byte[] signature() {
            return signature == null ? null : signature.clone();
        }

        public boolean ok() {
            return checks.stream().allMatch(Check::ok);
        }

        /**
         * The first partition of that role that is neither an empty A/B slot (labelled
         * {@code _empty}, as systemd-sysupdate marks them) nor flagged no-auto (systemd-dissect 252
         * skips such root, usr, verity and signature partitions; the flag means nothing on an ESP).
         */
        public Optional<Partition> partition(DpsType.Role role) {
            return partitions.stream().filter(p -> DpsType.of(p.type()).map(t -> t.role() == role).orElse(false))
                    .filter(p -> considered(p, role)).findFirst();
        }

        /** As {@link #partition(DpsType.Role)}, of exactly this (architecture-specific) type. */
        public Optional<Partition> partition(DpsType type) {
            return partitions.stream().filter(p -> p.type().equals(type.uuid())).filter(p -> considered(p, type.role())).findFirst();
        }

        private static boolean considered(Partition p, DpsType.Role role) {
            return !"_empty".equals(p.label()) && (role == DpsType.Role.ESP || (p.attributes() & DpsType.NO_AUTO) == 0);
        }
    }

    /**
     * @param trusted certificates the root-hash signature must verify with (a CA or the signer's own);
     *                empty: the signature is parsed, not verified
     */
    public static Report inspect(Path image, List<X509Certificate> trusted, Instant now, int threads) throws IOException {
        List<Check> checks = new ArrayList<>();
        GptTable t = DiskImages.readGpt(image);
        long rawSize;
        boolean vhd;
        try (FileChannel ch = FileChannel.open(image, StandardOpenOption.READ)) {
            rawSize = DiskImages.rawSize(ch);
            vhd = rawSize != ch.size();
        }
        checks.add(new Check("GPT", t.problems().isEmpty(), t.problems().isEmpty() ? "primary and backup headers and entries agree"
                : String.join("; ", t.problems())));
        List<Partition> parts = new ArrayList<>();
        for (GptEntry e : t.entries()) {
            parts.add(new Partition(e.number(), e.dpsType().map(DpsType::systemdName).orElse("-"), e.type(), e.uuid(), e.name(),
                    e.attributes(), flags(e.attributes()), t.offset(e), t.size(e)));
        }
        String rootHash = null;
        String signedRootHash = null;
        byte[] signature = null;
        List<EspFile> esp = new ArrayList<>();
        Report partial = new Report(image, vhd ? "vhd" : "raw", rawSize, t.diskGuid(), parts, null, null, null, esp, checks);
        // the verity and signature partitions of the root's architecture: dissect refuses an image whose
        // root-verity partition has no root partition of the same architecture
        Optional<Partition> root = partial.partition(DpsType.Role.ROOT);
        Optional<DpsType.Arch> arch = root.flatMap(p -> DpsType.of(p.type())).flatMap(DpsType::arch);
        Optional<Partition> verity = arch.flatMap(a -> partial.partition(DpsType.of(DpsType.Role.ROOT_VERITY, a)));
        Optional<Partition> sig = arch.isPresent() ? partial.partition(DpsType.of(DpsType.Role.ROOT_VERITY_SIG, arch.get()))
                : partial.partition(DpsType.Role.ROOT_VERITY_SIG);
        if (root.isPresent() && verity.isPresent()) {
            byte[] rh = new byte[32];
            ByteBuffer.wrap(rh).putLong(root.get().uuid().getMostSignificantBits()).putLong(root.get().uuid().getLeastSignificantBits())
                    .putLong(verity.get().uuid().getMostSignificantBits()).putLong(verity.get().uuid().getLeastSignificantBits());
            rootHash = HexFormat.of().formatHex(rh);
            VerifyResult v = VerityVerifier.verifyRegion(image, root.get().offset(), root.get().size(), image, verity.get().offset(),
                    verity.get().size(), rh, threads);
            checks.add(new Check("root hash", v instanceof VerifyResult.Intact, v instanceof VerifyResult.Intact
                    ? "recomputed from the root and root-verity partitions: " + rootHash + ", as their UUIDs say"
                    : "the partitions' UUIDs say " + rootHash + ", but " + ((VerifyResult.Corrupted) v).describe()));
        } else {
            checks.add(new Check("root hash", false, "no root and root-verity partition pair"));
        }
        if (sig.isPresent()) {
            try {
                JsonNode j = signaturePartition(image, sig.get());
                // systemd unhexes rootHash (either case) and checks the signature over the lowercase hex
                String text = j.path("rootHash").asText("");
                signedRootHash = text.matches("[0-9a-fA-F]+") ? text.toLowerCase(Locale.ROOT) : text;
                signature = Base64.getDecoder().decode(j.path("signature").asText(""));
                boolean same = signedRootHash.equals(rootHash);
                checks.add(new Check("signature partition", same, same ? "rootHash " + signedRootHash
                        : "rootHash " + signedRootHash + " is not the partitions' " + rootHash));
                if (!trusted.isEmpty()) {
                    try {
                        CmsVerifier.Verified ok = CmsVerifier.verify(signature, signedRootHash.getBytes(StandardCharsets.US_ASCII), trusted,
                                List.of(), now);
                        checks.add(new Check("root-hash signature", true, "signed by " + ok.signer().getSubjectX500Principal().getName()));
                    } catch (SigningException e) {
                        checks.add(new Check("root-hash signature", false, e.getMessage()));
                    }
                }
            } catch (FormatException | IllegalArgumentException e) {
                checks.add(new Check("signature partition", false, e.getMessage()));
            }
        } else if (!trusted.isEmpty()) {
            checks.add(new Check("root-hash signature", false, "no root-verity-sig partition"));
        }
        Optional<Partition> espPart = partial.partition(DpsType.Role.ESP);
        if (espPart.isPresent()) {
            List<String> refusals;
            try (FileChannel ch = FileChannel.open(image, StandardOpenOption.READ)) {
                FatReader fat = FatReader.open(ch, espPart.get().offset(), espPart.get().size());
                refusals = fat.uefiRefusals();
                List<FatFile> files = fat.list();
                for (FatFile f : files) {
                    if (f.directory()) {
                        continue;
                    }
                    if (esp.size() >= MAX_ESP_FILES) {
                        throw new FormatException("ESP", files.size(), "more than " + MAX_ESP_FILES + " files");
                    }
                    MessageDigest md = sha256();
                    fat.copyFile(f.path(), new OutputStream() {
                        @Override
                        public void write(int b) {
                            md.update((byte) b);
                        }

                        @Override
                        public void write(byte[] b, int off, int len) {
                            md.update(b, off, len);
                        }
                    });
                    esp.add(new EspFile(f.path(), f.size(), HexFormat.of().formatHex(md.digest())));
                }
            }
            boolean boots = esp.stream().anyMatch(f -> f.path().equalsIgnoreCase("/EFI/BOOT/BOOTX64.EFI")
                    || f.path().equalsIgnoreCase("/EFI/BOOT/BOOTAA64.EFI"));
            long addOns = esp.stream().filter(f -> STUB_ADD_ON.matcher(f.path()).matches()).count();
            checks.add(new Check("ESP", boots && refusals.isEmpty(), esp.size() + " files"
                    + (boots ? ", with the firmware's fallback boot loader" : ", no /EFI/BOOT/BOOT*.EFI")
                    + (addOns == 0 ? "" : ", " + addOns + " extension image(s) systemd-stub passes to the initrd (UKI.efi.extra.d/*.raw)")
                    + (refusals.isEmpty() ? "" : "; UEFI firmware would not mount it: " + String.join(", ", refusals))));
        }
        return new Report(image, vhd ? "vhd" : "raw", rawSize, t.diskGuid(), parts, rootHash, signedRootHash, signature, esp, checks);
    }

    /** systemd's reader rules: JSON up to the first NUL, nothing but NULs after it, at most 4 MiB. */
    static JsonNode signaturePartition(Path image, Partition p) throws IOException {
        if (p.size() > MAX_SIG_PARTITION) {
            throw new FormatException("root-verity-sig", p.size(), "partition larger than 4 MiB (systemd refuses it)");
        }
        byte[] b = new byte[Math.toIntExact(p.size())];
        try (FileChannel ch = FileChannel.open(image, StandardOpenOption.READ)) {
            ByteBuffer buf = ByteBuffer.wrap(b);
            while (buf.hasRemaining()) {
                if (ch.read(buf, p.offset() + buf.position()) < 0) {
                    throw new FormatException("root-verity-sig", p.offset(), "partition runs past the end of the image");
                }
            }
        }
        int end = 0;
        while (end < b.length && b[end] != 0) {
            end++;
        }
        for (int i = end; i < b.length; i++) {
            if (b[i] != 0) {
                throw new FormatException("root-verity-sig", p.offset() + i, "data after the JSON's terminating NUL");
            }
        }
        JsonNode j;
        try {
            j = new ObjectMapper().readTree(new String(b, 0, end, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new FormatException("root-verity-sig", p.offset(), "not JSON");
        }
        if (j == null || !j.isObject() || !j.path("rootHash").isTextual() || !j.path("signature").isTextual()) {
            throw new FormatException("root-verity-sig", p.offset(), "not systemd's verity signature JSON (rootHash, signature)");
        }
        return j;
    }

    static List<String> flags(long attributes) {
        List<String> f = new ArrayList<>();
        if ((attributes & DpsType.READ_ONLY) != 0) {
            f.add("read-only");
        }
        if ((attributes & DpsType.NO_AUTO) != 0) {
            f.add("no-auto");
        }
        if ((attributes & DpsType.GROW_FS) != 0) {
            f.add("grow-fs");
        }
        if ((attributes & DpsType.REQUIRED) != 0) {
            f.add("required");
        }
        long other = attributes & ~(DpsType.READ_ONLY | DpsType.NO_AUTO | DpsType.GROW_FS | DpsType.REQUIRED);
        if (other != 0) {
            f.add(String.format(Locale.ROOT, "0x%016x", other));
        }
        return f;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}

package dev.cairn.pipeline;

import dev.cairn.pipeline.SpecTree.Node;
import dev.cairn.squashfs.Compression;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The build spec ({@code cairn build SPEC.yaml}): one document naming the image, its root
 * filesystem, kernel, stub, initramfs, command line, keys and outputs. Everything is checked when
 * it is read — unknown keys, missing files, bad values, the command-line template — so a bad spec
 * fails with its line named before any work is done. Relative paths are relative to the spec's
 * directory. The full reference is docs/build-spec.md.
 */
public record BuildSpec(Path file, String sha256, Image image, Long sourceDateEpoch, Rootfs rootfs, Verity verity, Kernel kernel,
                        Ipe ipe, Map<KeyRole, KeySpec> keys, Outputs outputs, Tpm tpm, List<Extension> extensions) {

    public BuildSpec {
        extensions = extensions == null ? List.of() : List.copyOf(extensions);
    }

    public static final String API_VERSION = "cairn.dev/v1";
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,62}");
    private static final Pattern VERSION = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._+-]{0,62}");

    /** The image's name and version: names of files in OUT, so checked here too, not only when a spec file is read. */
    public record Image(String name, String version) {
        public Image {
            if (name == null || !NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("image name must be lower-case letters, digits, '.', '_' or '-' (at most 63), not '"
                        + name + "'");
            }
            if (version == null || !VERSION.matcher(version).matches()) {
                throw new IllegalArgumentException("image version must be letters, digits, '.', '_', '+' or '-' (at most 63), not '"
                        + version + "'");
            }
        }
    }

    /**
     * Exactly one of dir, tar and oci.
     *
     * @param fileContexts {@code selinux.fileContexts}: label every entry as setfiles does (null: no labels)
     * @param ima          {@code ima}: sign files into {@code security.ima} (null: no signatures)
     * @param overlay      {@code overlay}: directory trees laid over the source, in order (empty: none)
     * @param clean        {@code clean}: clean-ups applied to the final tree, in the spec's order (empty: none)
     */
    public record Rootfs(Path dir, Path tar, OciRootfs oci, Compression compression, List<String> pseudo, List<String> exclude,
                         Path fileContexts, Ima ima, List<Path> overlay, List<Cleanup> clean) {
        public Rootfs {
            overlay = overlay == null ? List.of() : List.copyOf(overlay);
            clean = clean == null ? List.of() : List.copyOf(clean);
        }

        /** A root filesystem without overlays and clean-ups. */
        public Rootfs(Path dir, Path tar, OciRootfs oci, Compression compression, List<String> pseudo, List<String> exclude,
                      Path fileContexts, Ima ima) {
            this(dir, tar, oci, compression, pseudo, exclude, fileContexts, ima, List.of(), List.of());
        }
    }

    /** {@code rootfs.clean}: the named clean-ups of state an immutable image must not carry (docs/build-spec.md). */
    public enum Cleanup {
        MACHINE_ID("machine-id"),
        SSH_HOST_KEYS("ssh-host-keys"),
        LOGS("logs"),
        APT_CACHES("apt-caches"),
        RANDOM_SEED("random-seed"),
        LDCONFIG_AUX_CACHE("ldconfig-aux-cache");

        private final String specName;

        Cleanup(String specName) {
            this.specName = specName;
        }

        public String specName() {
            return specName;
        }

        /** The clean-up called {@code name} in a spec, or null. */
        public static Cleanup of(String name) {
            for (Cleanup c : values()) {
                if (c.specName.equals(name)) {
                    return c;
                }
            }
            return null;
        }

        static String known() {
            List<String> n = new ArrayList<>();
            for (Cleanup c : values()) {
                n.add(c.specName);
            }
            return String.join(", ", n);
        }
    }

    /**
     * {@code rootfs.ima}: IMA signature v2 in {@code security.ima} of the regular files chosen by
     * {@code files}, with the {@code ima} key ({@code key}, a key source) and the hash {@code hash}.
     */
    public record Ima(ImaFiles files, dev.cairn.signing.ImaSignature.Hash hash, KeySpec key) {
    }

    /** Which regular files {@code rootfs.ima} signs. */
    public enum ImaFiles {
        /** Regular files with any execute bit (owner, group or other; setuid/setgid files included). */
        EXECUTABLES,
        /** Every regular file. */
        ALL
    }

    /**
     * {@code rootfs.oci: LAYOUT:TAG} (or {@code LAYOUT@sha256:…}): the image's tar layers, bottom
     * first, as resolved when the spec was read (digests are verified while the blobs are read).
     */
    public record OciRootfs(Path layout, String reference, dev.cairn.oci.Digest manifest, List<dev.cairn.oci.Descriptor> layers) {
        public OciRootfs {
            layers = List.copyOf(layers);
        }
    }

    /** {@code salt} null: derived from the image name, version and SquashFS digest (deterministic). */
    public record Verity(byte[] salt) {
    }

    /**
     * {@code kernel.initramfs}: {@code dir} packed by cairn (with what cairn carries), or a ready
     * {@code file} used as it is, or both: the file first, then cairn's packed {@code dir} appended.
     */
    public record Initramfs(Path dir, Path file, List<Path> binaries, List<String> modules, Path modulesDir) {
        /** What the manifest records as {@code initramfs.source}: {@code dir}, {@code file} or {@code file+dir}. */
        public String source() {
            return dir == null ? "file" : file == null ? "dir" : "file+dir";
        }
    }

    /**
     * {@code linuxFile} and {@code stubFile}: the kernel and stub as the spec wrote them, a glob
     * resolved, relative paths kept relative to the spec's directory (what the manifest records,
     * so it does not depend on where the checkout lies).
     */
    public record Kernel(Path linux, Path stub, CmdlineTemplate cmdline, String osRelease, Initramfs initramfs, List<String> pcrBanks,
                         String linuxFile, String stubFile) {
    }

    /**
     * {@code tpm:} what the manifest predicts for the machines' TPM.
     *
     * @param keyStore the OVMF variable store with the Secure Boot keys the machines have enrolled (PCR 7), or null:
     *                 the development store when the secureboot role uses development keys, else no PCR 7
     * @param policy   a MachineOS-style policy (PolicyPCR on PCR 7, then PolicyNV on a version index), or null
     */
    public record Tpm(Path keyStore, VersionPolicy policy) {
        static final Tpm NONE = new Tpm(null, null);
    }

    /**
     * PolicyPCR(PCR 7 of the first {@code kernel.pcrBanks} bank) then PolicyNV(index == version, offset 0), the
     * index named as written.
     */
    public record VersionPolicy(int nvIndex, String version, int nvAttributes, int nvSize) {
    }

    /** {@code enabled} false: no IPE policy (and nothing of it in the initramfs). */
    public record Ipe(boolean enabled, String name, String version, List<String> rules) {
    }

    /**
     * One entry of {@code extensions:}: a system (or configuration) extension image built beside the
     * image as {@code OUT/extensions/NAME.raw} (docs/build-spec.md, docs/sysext.md).
     *
     * @param dir         the tree (exactly one of dir and tar)
     * @param tar         a tarball of the tree
     * @param osId        {@code ID=}; null: the built root filesystem's os-release {@code ID}
     * @param versionId   {@code VERSION_ID=}; null: the root filesystem's {@code VERSION_ID} unless {@code sysextLevel} is given
     * @param sysextLevel {@code SYSEXT_LEVEL=} ({@code CONFEXT_LEVEL=} for a confext), or null
     */
    public record Extension(String name, Path dir, Path tar, String osId, String versionId, String sysextLevel,
                            dev.cairn.pipeline.sysext.ExtensionRelease.Architecture arch, boolean confext,
                            dev.cairn.pipeline.sysext.SysextRequest.Format format, Compression compression) {
        /** The extension's file, relative to OUT. */
        public String path() {
            return "extensions/" + name + dev.cairn.pipeline.sysext.ExtensionRelease.SUFFIX;
        }

        public dev.cairn.pipeline.sysext.ExtensionRelease.Kind kind() {
            return confext ? dev.cairn.pipeline.sysext.ExtensionRelease.Kind.CONFEXT : dev.cairn.pipeline.sysext.ExtensionRelease.Kind.SYSEXT;
        }
    }

    /** {@code disk} null: no disk image. */
    public record Outputs(String ociLayout, String tag, String reference, String push, Disk disk) {
    }

    /**
     * {@code outputs.disk}: a Discoverable Disk Image (GPT: ESP with the signed UKI, root,
     * root-verity and root-verity-sig partitions; with {@code slots: 2} a second, empty set of the
     * last three for A/B updates).
     *
     * @param file    the image's file name in OUT ({@code disk.raw}, or {@code disk.vhd} for VHD)
     * @param format  raw or fixed VHD (size rounded up to 1 MiB, footer appended)
     * @param slots   1, or 2 for an A/B layout
     * @param espSize the ESP's size in bytes (0: big enough for two copies of the UKI, at least 64 MiB)
     * @param seed    the seed of the disk GUID and the ESP's and signature partition's UUIDs, as
     *                systemd-repart's {@code --seed} (null: derived from the image name and version)
     * @param rootSize   the root partitions' size (0: the SquashFS's); with two slots, room for later versions
     * @param veritySize the root-verity partitions' size (0: the tree's)
     */
    public record Disk(String file, Format format, int slots, long espSize, java.util.UUID seed, long rootSize, long veritySize) {
        public enum Format { RAW, VHD }
    }

    public static BuildSpec load(Path file) throws IOException {
        byte[] bytes;
        try {
            if (Files.size(file) > SpecTree.MAX_BYTES) {
                throw new SpecException(file, 0, "", "larger than " + SpecTree.MAX_BYTES + " bytes: not a build spec");
            }
            bytes = Files.readAllBytes(file);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new SpecException(file, 0, "", "no such file");
        }
        return parse(file, bytes);
    }

    /**
     * A spec held in memory (generated by a build script, say), read as if it were the file
     * {@code nominalFile}: relative paths resolve against that file's directory, errors name it with
     * the line, and the manifest records its file name. The file itself need not exist.
     */
    public static BuildSpec parse(Path nominalFile, String yaml) throws IOException {
        byte[] bytes = yaml.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        if (bytes.length > SpecTree.MAX_BYTES) {
            throw new SpecException(nominalFile, 0, "", "larger than " + SpecTree.MAX_BYTES + " bytes: not a build spec");
        }
        return parse(nominalFile, bytes);
    }

    private static BuildSpec parse(Path file, byte[] bytes) throws IOException {
        SpecTree t = SpecTree.parse(file, bytes);
        Node root = t.root();
        t.onlyKeys(root, "apiVersion", "image", "sourceDateEpoch", "rootfs", "verity", "kernel", "ipe", "keys", "outputs", "tpm",
                "extensions");
        String api = t.string(root, "apiVersion", true);
        if (!API_VERSION.equals(api)) {
            throw t.error(t.node(root, "apiVersion"), "must be " + API_VERSION + " (this cairn's spec version), not '" + api + "'");
        }
        Node img = t.map(root, "image", true);
        t.onlyKeys(img, "name", "version");
        String name = t.string(img, "name", true);
        if (!NAME.matcher(name).matches()) {
            throw t.error(t.node(img, "name"), "must be lower-case letters, digits, '.', '_' or '-' (at most 63), not '" + name + "'");
        }
        String version = t.string(img, "version", true);
        if (!VERSION.matcher(version).matches()) {
            throw t.error(t.node(img, "version"), "must be letters, digits, '.', '_', '+' or '-' (at most 63), not '" + version + "'");
        }
        Long sde = t.number(root, "sourceDateEpoch", 0, 253402300799L);

        Rootfs rootfs = rootfs(t, t.map(root, "rootfs", true));
        Verity verity = verity(t, t.map(root, "verity", false));
        Kernel kernel = kernel(t, t.map(root, "kernel", true));
        Ipe ipe = ipe(t, t.map(root, "ipe", false), name, version);
        Map<KeyRole, KeySpec> keys = keys(t, t.map(root, "keys", true));
        if (rootfs.ima() != null) {
            keys.put(KeyRole.IMA, rootfs.ima().key());
        }
        Outputs outputs = outputs(t, t.map(root, "outputs", false), name, version);
        if (outputs.disk() != null && outputs.disk().slots() == 2 && (name + "_" + version + "_verity_sig").length() > 36) {
            throw t.error(t.node(t.map(root, "outputs", false), "disk"), "with slots: 2 the partitions are labelled NAME_VERSION_verity_sig, "
                    + "which must fit in a GPT name (36 characters): '" + name + "_" + version + "_verity_sig' is longer");
        }
        if (outputs.disk() == null && kernel.cmdline().variables().stream().anyMatch(v -> v.startsWith("disk."))) {
            throw t.error(t.node(t.map(root, "kernel", true), "cmdline"), "${disk.root.partuuid} and ${disk.verity.partuuid} need a disk "
                    + "image: add outputs.disk");
        }
        Tpm tpm = tpm(t, t.map(root, "tpm", false));
        List<Extension> extensions = extensions(t, t.node(root, "extensions"));
        return new BuildSpec(file, sha256(bytes), new Image(name, version), sde, rootfs, verity, kernel, ipe, keys, outputs, tpm,
                extensions);
    }

    /** At most this many extensions in one build (each is a step, a file and an IPE rule). */
    static final int MAX_EXTENSIONS = 64;

    private static List<Extension> extensions(SpecTree t, Node n) throws SpecException {
        if (n == null || n.value() == null) {
            return List.of();
        }
        if (!n.isList()) {
            throw t.error(n, "a list of extensions (each a mapping with name and dir or tar)");
        }
        if (n.list().size() > MAX_EXTENSIONS) {
            throw t.error(n, n.list().size() + " extensions; at most " + MAX_EXTENSIONS);
        }
        List<Extension> out = new ArrayList<>();
        java.util.Set<String> names = new java.util.HashSet<>();
        for (Node e : n.list()) {
            if (!e.isMap()) {
                throw t.error(e, "an extension is a mapping (name, dir or tar, osId, versionId, sysextLevel, arch, confext, format, "
                        + "compression)");
            }
            t.onlyKeys(e, "name", "dir", "tar", "osId", "versionId", "sysextLevel", "arch", "confext", "format", "compression");
            String name = t.string(e, "name", true);
            try {
                dev.cairn.pipeline.sysext.ExtensionRelease.checkName(name);
            } catch (IllegalArgumentException x) {
                throw t.error(t.node(e, "name"), x.getMessage());
            }
            if (!names.add(name)) {
                throw t.error(t.node(e, "name"), "a second extension named '" + name + "' (each is OUT/extensions/NAME.raw)");
            }
            Path dir = t.path(e, "dir", false);
            Path tar = t.path(e, "tar", false);
            if ((dir == null) == (tar == null)) {
                throw t.error(e, "give exactly one of 'dir' (a directory) or 'tar' (a tarball, plain/gz/zst/xz) with the extension's tree");
            }
            if (dir != null && !Files.isDirectory(dir)) {
                throw t.error(t.node(e, "dir"), dir + ": no such directory");
            }
            if (tar != null && !Files.isRegularFile(tar)) {
                throw t.error(t.node(e, "tar"), tar + ": no such file");
            }
            boolean confext = t.bool(e, "confext", false);
            String osId = t.string(e, "osId", false);
            String versionId = t.string(e, "versionId", false);
            String level = t.string(e, "sysextLevel", false);
            dev.cairn.pipeline.sysext.ExtensionRelease.Kind kind = confext ? dev.cairn.pipeline.sysext.ExtensionRelease.Kind.CONFEXT
                    : dev.cairn.pipeline.sysext.ExtensionRelease.Kind.SYSEXT;
            try {
                // the fields as far as they are given (a placeholder ID and version stand for the os-release's)
                new dev.cairn.pipeline.sysext.ExtensionRelease(kind, name, osId != null ? osId : "placeholder",
                        versionId != null ? versionId : level == null ? "0" : null, level, null);
            } catch (IllegalArgumentException x) {
                String key = x.getMessage().startsWith("ID=") ? "osId" : x.getMessage().startsWith("VERSION_ID=") ? "versionId"
                        : "sysextLevel";
                throw t.error(t.node(e, key) != null ? t.node(e, key) : e, x.getMessage());
            }
            String a = t.string(e, "arch", false);
            dev.cairn.pipeline.sysext.ExtensionRelease.Architecture arch;
            try {
                arch = dev.cairn.pipeline.sysext.ExtensionRelease.Architecture.of(a == null ? "x86-64" : a);
            } catch (IllegalArgumentException x) {
                throw t.error(t.node(e, "arch"), x.getMessage());
            }
            String f = t.string(e, "format", false);
            dev.cairn.pipeline.sysext.SysextRequest.Format format;
            if (f == null || f.equals("ddi")) {
                format = dev.cairn.pipeline.sysext.SysextRequest.Format.DDI;
            } else if (f.equals("squashfs")) {
                format = dev.cairn.pipeline.sysext.SysextRequest.Format.SQUASHFS;
            } else {
                throw t.error(t.node(e, "format"), "ddi (default) or squashfs, not '" + f + "'");
            }
            String c = t.string(e, "compression", false);
            Compression comp;
            try {
                comp = c == null ? Compression.GZIP : Compression.parse(c);
            } catch (IllegalArgumentException | IOException x) {
                throw t.error(t.node(e, "compression"), x.getMessage());
            }
            if (comp != Compression.GZIP && comp != Compression.XZ && comp != Compression.LZ4 && comp != Compression.ZSTD) {
                throw t.error(t.node(e, "compression"), "gzip (default), xz, lz4 or zstd, not '" + c + "'");
            }
            out.add(new Extension(name, dir, tar, osId, versionId, level, arch, confext, format, comp));
        }
        return out;
    }

    private static Tpm tpm(SpecTree t, Node n) throws SpecException {
        if (n == null) {
            return Tpm.NONE;
        }
        t.onlyKeys(n, "keyStore", "policy");
        Path store = t.path(n, "keyStore", false);
        if (store != null && !Files.isRegularFile(store)) {
            throw t.error(t.node(n, "keyStore"), store + ": no such file (an OVMF variable store with the keys enrolled)");
        }
        Node p = t.map(n, "policy", false);
        VersionPolicy policy = null;
        if (p != null) {
            t.onlyKeys(p, "nvIndex", "version", "nvAttributes", "nvSize");
            int index;
            try {
                index = dev.cairn.signing.tpm.TpmsNvPublic.parseIndex(t.string(p, "nvIndex", true));
            } catch (dev.cairn.io.FormatException e) {
                throw t.error(t.node(p, "nvIndex"), "not an NV index handle (0x01xxxxxx, e.g. 0x1500020)");
            }
            String attrs = t.string(p, "nvAttributes", false);
            int attributes;
            try {
                attributes = dev.cairn.signing.tpm.TpmsNvPublic.parseAttributes(attrs == null ? "ownerwrite|ownerread|authread" : attrs);
            } catch (dev.cairn.io.FormatException e) {
                throw t.error(t.node(p, "nvAttributes"), e.getMessage());
            }
            String version = t.string(p, "version", true);
            if (!version.chars().allMatch(c -> c >= 0x20 && c < 0x7F)) {
                throw t.error(t.node(p, "version"), "the version is compared as ASCII bytes: printable ASCII only");
            }
            Long size = t.number(p, "nvSize", 1, 2048);
            int nvSize = size == null ? version.length() : Math.toIntExact(size);
            if (version.length() > nvSize) {
                throw t.error(t.node(p, "version"), "'" + version + "' is longer than the index (" + nvSize + " bytes)");
            }
            policy = new VersionPolicy(index, version, attributes, nvSize);
        }
        return new Tpm(store, policy);
    }

    private static Rootfs rootfs(SpecTree t, Node n) throws SpecException {
        t.onlyKeys(n, "dir", "tar", "oci", "compression", "pseudo", "exclude", "selinux", "ima", "overlay", "clean");
        Path dir = t.path(n, "dir", false);
        Path tar = t.path(n, "tar", false);
        String ociRef = t.string(n, "oci", false);
        if ((dir != null ? 1 : 0) + (tar != null ? 1 : 0) + (ociRef != null ? 1 : 0) != 1) {
            throw t.error(n, "give exactly one of 'dir' (a directory), 'tar' (a tarball, plain/gz/zst/xz) or 'oci' "
                    + "(LAYOUT:TAG, an OCI image layout's layers)");
        }
        OciRootfs oci = ociRef == null ? null : OciRootfsResolver.resolve(t, t.node(n, "oci"), ociRef);
        if (dir != null && !Files.isDirectory(dir)) {
            throw t.error(t.node(n, "dir"), dir + ": no such directory");
        }
        if (tar != null && !Files.isRegularFile(tar)) {
            throw t.error(t.node(n, "tar"), tar + ": no such file");
        }
        String c = t.string(n, "compression", false);
        Compression comp;
        try {
            comp = c == null ? Compression.ZSTD : Compression.parse(c);
        } catch (IllegalArgumentException | dev.cairn.io.UnsupportedFeatureException e) {
            throw t.error(t.node(n, "compression"), e.getMessage());
        }
        if (comp != Compression.ZSTD && comp != Compression.GZIP) {
            throw t.error(t.node(n, "compression"), "the image's OCI layer is a stacker SquashFS layer, whose media types exist for zstd and "
                    + "gzip only, not " + c);
        }
        List<String> pseudo = t.strings(n, "pseudo");
        for (int i = 0; i < pseudo.size(); i++) {
            try {
                dev.cairn.squashfs.PseudoDefinition.parse(pseudo.get(i), "rootfs.pseudo[" + i + "]");
            } catch (RuntimeException e) {
                throw t.error(t.node(n, "pseudo").list().get(i), e.getMessage());
            }
        }
        Path fileContexts = null;
        Node se = t.map(n, "selinux", false);
        if (se != null) {
            t.onlyKeys(se, "fileContexts");
            fileContexts = t.path(se, "fileContexts", true);
            try {
                dev.cairn.pipeline.selinux.FileContexts.load(fileContexts);
            } catch (IOException e) {
                throw t.error(t.node(se, "fileContexts"), PipelineException.describe(e));
            }
        }
        List<Path> overlay = new ArrayList<>();
        List<String> ov = t.strings(n, "overlay");
        for (int k = 0; k < ov.size(); k++) {
            Node at = t.node(n, "overlay").list().get(k);
            if (ov.get(k).isBlank()) {
                throw t.error(at, "must not be empty");
            }
            Path p = t.file().toAbsolutePath().getParent().resolve(ov.get(k)).normalize();
            if (!Files.isDirectory(p)) {
                throw t.error(at, p + ": no such directory (an overlay is a directory tree laid over the root filesystem)");
            }
            if (overlay.contains(p)) {
                throw t.error(at, p + " is named twice");
            }
            overlay.add(p);
        }
        List<Cleanup> clean = new ArrayList<>();
        List<String> cl = t.strings(n, "clean");
        for (int k = 0; k < cl.size(); k++) {
            Node at = t.node(n, "clean").list().get(k);
            Cleanup cu = Cleanup.of(cl.get(k));
            if (cu == null) {
                throw t.error(at, "unknown clean-up '" + cl.get(k) + "' (known: " + Cleanup.known() + ")");
            }
            if (clean.contains(cu)) {
                throw t.error(at, "'" + cl.get(k) + "' is named twice");
            }
            clean.add(cu);
        }
        return new Rootfs(dir, tar, oci, comp, pseudo, t.strings(n, "exclude"), fileContexts, ima(t, t.map(n, "ima", false)), overlay,
                clean);
    }

    private static Ima ima(SpecTree t, Node n) throws SpecException {
        if (n == null) {
            return null;
        }
        t.onlyKeys(n, "key", "files", "hash");
        Node k = t.node(n, "key");
        if (k == null || k.value() == null && !k.isMap()) {
            throw t.error(n, "missing 'key': the key source of the IMA signatures ('dev', or a mapping with key/cert, pkcs12 or pkcs11)");
        }
        KeySpec key = KeySpec.parse(t, k);
        String f = t.string(n, "files", false);
        ImaFiles files;
        if (f == null || f.equals("executables")) {
            files = ImaFiles.EXECUTABLES;
        } else if (f.equals("all")) {
            files = ImaFiles.ALL;
        } else {
            throw t.error(t.node(n, "files"), "'executables' (regular files with an execute bit) or 'all', not '" + f + "'");
        }
        String h = t.string(n, "hash", false);
        dev.cairn.signing.ImaSignature.Hash hash;
        if (h == null || h.equals("sha256")) {
            hash = dev.cairn.signing.ImaSignature.Hash.SHA256;
        } else if (h.equals("sha384")) {
            hash = dev.cairn.signing.ImaSignature.Hash.SHA384;
        } else if (h.equals("sha512")) {
            hash = dev.cairn.signing.ImaSignature.Hash.SHA512;
        } else if (h.equals("sha1")) {
            hash = dev.cairn.signing.ImaSignature.Hash.SHA1;
        } else {
            throw t.error(t.node(n, "hash"), "sha256 (default), sha384, sha512 or sha1, not '" + h + "'");
        }
        return new Ima(files, hash, key);
    }

    private static Verity verity(SpecTree t, Node n) throws SpecException {
        if (n == null) {
            return new Verity(null);
        }
        t.onlyKeys(n, "salt");
        String s = t.string(n, "salt", false);
        if (s == null) {
            return new Verity(null);
        }
        try {
            byte[] salt = HexFormat.of().parseHex(s);
            if (salt.length == 0 || salt.length > 256) {
                throw t.error(t.node(n, "salt"), "must be 1 to 256 bytes of hex");
            }
            return new Verity(salt);
        } catch (IllegalArgumentException e) {
            throw t.error(t.node(n, "salt"), "must be hex digits, not '" + s + "'");
        }
    }

    private static Kernel kernel(SpecTree t, Node n) throws SpecException {
        t.onlyKeys(n, "linux", "stub", "cmdline", "osRelease", "initramfs", "pcrBanks");
        Path linux = KernelFiles.resolve(t, n, "linux", null);
        Path stub = KernelFiles.resolve(t, n, "stub", KernelFiles.DEFAULT_STUB);
        String template = t.string(n, "cmdline", true);
        CmdlineTemplate cmdline;
        try {
            cmdline = CmdlineTemplate.parse(template);
        } catch (IllegalArgumentException e) {
            throw t.error(t.node(n, "cmdline"), e.getMessage());
        }
        Node i = t.map(n, "initramfs", true);
        t.onlyKeys(i, "dir", "file", "binaries", "modules", "modulesDir");
        Path dir = t.path(i, "dir", false);
        Path file = t.path(i, "file", false);
        if (dir == null && file == null) {
            throw t.error(i, "give 'dir' (a directory to pack, with an /init), 'file' (a ready initramfs), or both (the file, then "
                    + "the packed directory appended)");
        }
        if (dir != null && !Files.isDirectory(dir)) {
            throw t.error(t.node(i, "dir"), dir + ": no such directory");
        }
        if (dir != null && file == null && !Files.isRegularFile(dir.resolve("init"))) {
            throw t.error(t.node(i, "dir"), dir + " has no 'init' file: the kernel runs /init from the initramfs");
        }
        if (file != null && !Files.isRegularFile(file)) {
            throw t.error(t.node(i, "file"), file + ": no such file");
        }
        List<Path> binaries = new ArrayList<>();
        List<String> bins = t.strings(i, "binaries");
        for (int k = 0; k < bins.size(); k++) {
            Path b = Path.of(bins.get(k));
            Node at = t.node(i, "binaries").list().get(k);
            if (!b.isAbsolute()) {
                throw t.error(at, "binaries are host paths and must be absolute, not '" + b + "'");
            }
            if (!Files.isRegularFile(b)) {
                throw t.error(at, b + ": no such file" + KernelFiles.packageHint(b));
            }
            binaries.add(b);
        }
        List<String> modules = t.strings(i, "modules");
        Path modulesDir = t.path(i, "modulesDir", false);
        if (dir == null && (!binaries.isEmpty() || !modules.isEmpty())) {
            throw t.error(i, "'binaries' and 'modules' are added to a packed directory ('dir'), not to a ready 'file' (give both "
                    + "to append them to the file)");
        }
        if (modulesDir != null && !Files.isRegularFile(modulesDir.resolve("modules.dep"))) {
            throw t.error(t.node(i, "modulesDir"), modulesDir + " has no modules.dep");
        }
        if (!modules.isEmpty() && modulesDir == null) {
            String release = KernelFiles.release(linux);
            if (release == null) {
                throw t.error(t.node(i, "modules"), linux + " does not say its release: give kernel.initramfs.modulesDir");
            }
            modulesDir = Path.of("/lib/modules", release);
            if (!Files.isRegularFile(modulesDir.resolve("modules.dep"))) {
                throw t.error(t.node(i, "modules"), modulesDir + "/modules.dep is missing: install the modules of kernel " + release
                        + " (Debian package linux-image-" + release + ") or give kernel.initramfs.modulesDir");
            }
        }
        List<String> banks = t.strings(n, "pcrBanks");
        for (int k = 0; k < banks.size(); k++) {
            try {
                dev.cairn.uki.PcrPredictor.Bank.parse(banks.get(k));
            } catch (IllegalArgumentException e) {
                throw t.error(t.node(n, "pcrBanks").list().get(k), e.getMessage());
            }
        }
        return new Kernel(linux, stub, cmdline, t.string(n, "osRelease", false),
                new Initramfs(dir, file, List.copyOf(binaries), modules, modulesDir), banks.isEmpty() ? List.of("sha256") : banks,
                KernelFiles.asWritten(t, n, "linux", linux), KernelFiles.asWritten(t, n, "stub", stub));
    }

    private static Ipe ipe(SpecTree t, Node n, String name, String version) throws SpecException {
        if (n == null) {
            return new Ipe(true, name.replaceAll("[^A-Za-z0-9_]", "_"), ipeVersion(version), List.of());
        }
        t.onlyKeys(n, "enabled", "name", "version", "rules");
        boolean enabled = t.bool(n, "enabled", true);
        String pn = t.string(n, "name", false);
        if (pn != null && !pn.matches("[A-Za-z0-9_]{1,64}")) {
            throw t.error(t.node(n, "name"), "an IPE policy name is letters, digits and '_', not '" + pn + "'");
        }
        String pv = t.string(n, "version", false);
        if (pv != null) {
            try {
                dev.cairn.signing.ipe.IpePolicy.Version.parse(pv);
            } catch (RuntimeException e) {
                throw t.error(t.node(n, "version"), e.getMessage());
            }
        }
        List<String> rules = t.strings(n, "rules");
        for (int k = 0; k < rules.size(); k++) {
            String probe = "policy_name=probe policy_version=0.0.1\nDEFAULT action=ALLOW\n" + rules.get(k) + "\n";
            try {
                dev.cairn.signing.ipe.IpePolicy.parse(probe.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            } catch (IOException | RuntimeException e) {
                throw t.error(t.node(n, "rules").list().get(k), "not an IPE rule: " + e.getMessage());
            }
        }
        return new Ipe(enabled, pn != null ? pn : name.replaceAll("[^A-Za-z0-9_]", "_"), pv != null ? pv : ipeVersion(version), rules);
    }

    /** The first three numeric parts of the image version ("1.2" → 1.2.0); IPE versions are X.Y.Z with 16-bit parts. */
    static String ipeVersion(String version) {
        String[] parts = version.split("[^0-9]+");
        int[] v = new int[3];
        int k = 0;
        for (String p : parts) {
            if (!p.isEmpty() && k < 3) {
                v[k++] = (int) Math.min(65535, Long.parseLong(p.length() > 5 ? "65535" : p));
            }
        }
        return v[0] + "." + v[1] + "." + v[2];
    }

    private static Map<KeyRole, KeySpec> keys(SpecTree t, Node n) throws SpecException {
        List<String> names = new ArrayList<>();
        for (KeyRole r : KeyRole.values()) {
            if (r != KeyRole.IMA) {
                names.add(r.specName());
            }
        }
        if (n.map().containsKey(KeyRole.IMA.specName())) {
            throw t.error(t.node(n, KeyRole.IMA.specName()), "the IMA key is given with the signatures it makes: rootfs.ima.key");
        }
        t.onlyKeys(n, names.toArray(String[]::new));
        Map<KeyRole, KeySpec> out = new EnumMap<>(KeyRole.class);
        for (KeyRole r : KeyRole.values()) {
            if (r == KeyRole.IMA) {
                continue;
            }
            Node k = t.node(n, r.specName());
            if (k != null && k.value() != null) {
                out.put(r, KeySpec.parse(t, k));
            }
        }
        for (KeyRole r : List.of(KeyRole.SECUREBOOT, KeyRole.MANIFEST)) {
            if (!out.containsKey(r)) {
                throw t.error(n, "missing '" + r.specName() + "' (" + r.purpose() + "); 'dev' generates a development key");
            }
        }
        return out;
    }

    private static Outputs outputs(SpecTree t, Node n, String name, String version) throws SpecException {
        if (n == null) {
            return new Outputs("oci", version, "localhost/" + name, null, null);
        }
        t.onlyKeys(n, "ociLayout", "tag", "reference", "push", "disk");
        String layout = t.string(n, "ociLayout", false);
        if (layout != null && (layout.isBlank() || layout.contains("/") || layout.startsWith("."))) {
            throw t.error(t.node(n, "ociLayout"), "a directory name inside the output directory, not '" + layout + "'");
        }
        String tag = t.string(n, "tag", false);
        if (tag != null && !dev.cairn.oci.OciLayout.isValidTag(tag)) {
            throw t.error(t.node(n, "tag"), "not a valid OCI tag: '" + tag + "'");
        }
        String ref = t.string(n, "reference", false);
        String push = t.string(n, "push", false);
        if (push != null) {
            try {
                dev.cairn.oci.RegistryReference.parse(push);
            } catch (IllegalArgumentException e) {
                throw t.error(t.node(n, "push"), e.getMessage());
            }
        }
        String tg = tag != null ? tag : version.replace('+', '_');
        String r = ref != null ? ref : push != null ? push.replaceFirst("[:@][^/]*$", "") : "localhost/" + name;
        Node d = t.node(n, "disk");
        return new Outputs(layout != null ? layout : "oci", tg, r, push, d == null ? null : disk(t, d));
    }

    private static Disk disk(SpecTree t, Node n) throws SpecException {
        if (n.isScalar() && ("true".equals(n.value()) || "{}".equals(n.value()))) {
            return new Disk("disk.raw", Disk.Format.RAW, 1, 0, null, 0, 0);
        }
        if (!n.isMap()) {
            throw t.error(n, "a mapping (file, format, slots, espSize, seed) or 'true'");
        }
        t.onlyKeys(n, "file", "format", "slots", "espSize", "seed", "rootSize", "veritySize");
        String format = t.string(n, "format", false);
        Disk.Format f;
        if (format == null || format.equals("raw")) {
            f = Disk.Format.RAW;
        } else if (format.equals("vhd")) {
            f = Disk.Format.VHD;
        } else {
            throw t.error(t.node(n, "format"), "raw or vhd, not '" + format + "'");
        }
        String file = t.string(n, "file", false);
        if (file == null) {
            file = f == Disk.Format.VHD ? "disk.vhd" : "disk.raw";
        } else if (file.isBlank() || file.contains("/") || file.startsWith(".")) {
            throw t.error(t.node(n, "file"), "a file name inside the output directory, not '" + file + "'");
        }
        Long slots = t.number(n, "slots", 1, 2);
        Long esp = t.number(n, "espSize", 33L << 20, 1L << 40);
        if (esp != null && esp % (1 << 20) != 0) {
            throw t.error(t.node(n, "espSize"), "a multiple of 1 MiB (1048576), not " + esp);
        }
        String seed = t.string(n, "seed", false);
        java.util.UUID u = null;
        if (seed != null) {
            try {
                u = java.util.UUID.fromString(seed);
            } catch (IllegalArgumentException e) {
                throw t.error(t.node(n, "seed"), "a UUID (as systemd-repart --seed takes), not '" + seed + "'");
            }
        }
        Long rootSize = t.number(n, "rootSize", 4096, 1L << 44);
        Long veritySize = t.number(n, "veritySize", 4096, 1L << 44);
        for (String k : new String[] {"rootSize", "veritySize"}) {
            Long v = k.equals("rootSize") ? rootSize : veritySize;
            if (v != null && v % 4096 != 0) {
                throw t.error(t.node(n, k), "a multiple of 4096, not " + v);
            }
        }
        return new Disk(file, f, slots == null ? 1 : slots.intValue(), esp == null ? 0 : esp, u, rootSize == null ? 0 : rootSize,
                veritySize == null ? 0 : veritySize);
    }

    private static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The rootfs compression's lower-case name. */
    public String compressionName() {
        return rootfs.compression().name().toLowerCase(Locale.ROOT);
    }
}

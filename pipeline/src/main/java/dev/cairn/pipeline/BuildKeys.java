package dev.cairn.pipeline;

import dev.cairn.signing.KeyLoader;
import dev.cairn.signing.KeyMaterial;
import dev.cairn.signing.Pkcs11KeySource;
import dev.cairn.signing.Secret;
import java.io.IOException;
import java.nio.file.Path;
import java.security.interfaces.RSAPublicKey;
import java.time.Instant;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;

/**
 * Every key a build signs with, loaded before any work starts: a missing file, a wrong
 * passphrase or an absent token fails the build at once (exit 4, naming the spec line), not after
 * the SquashFS is written. Roles without their own source use their fallback's key.
 */
final class BuildKeys {
    private final Map<KeyRole, KeyMaterial> keys = new EnumMap<>(KeyRole.class);
    private final Map<KeyRole, Boolean> development = new EnumMap<>(KeyRole.class);
    private final DevKeys devKeys;

    private BuildKeys(DevKeys dev) {
        this.devKeys = dev;
    }

    /**
     * The key sources that are not {@code dev}, loaded and type-checked: everything that can fail
     * about the keys, before anything is written (dev keys, the output directory and its lock).
     */
    record Prepared(BuildSpec spec, Map<KeyRole, KeySpec> sources, Map<KeySpec, KeyMaterial> loaded) {
        /** The build's keys: the prepared ones, and the development keys in {@code devKeysDir} (created when needed). */
        BuildKeys load(Path devKeysDir, BuildListener listener) throws IOException {
            boolean anyDev = sources.values().stream().anyMatch(k -> k.kind() == KeySpec.Kind.DEV);
            DevKeys dev = anyDev ? DevKeys.openOrCreate(devKeysDir, spec.image().name()) : null;
            BuildKeys b = new BuildKeys(dev);
            for (Map.Entry<KeyRole, KeySpec> e : sources.entrySet()) {
                KeyRole role = e.getKey();
                KeySpec ks = e.getValue();
                KeyMaterial km = loaded.get(ks);
                if (km == null) {
                    km = dev.load(role);
                    checkType(role, ks, km);
                }
                for (String w : KeyLoader.validityWarnings(km.certificate(), Instant.now())) {
                    listener.warning("keys." + role.specName() + ": " + w);
                }
                if (role == KeyRole.IMA && !(km.certificate().getPublicKey() instanceof RSAPublicKey)) {
                    listener.warning("rootfs.ima.key is an EC key: ECDSA signatures differ from build to build, and so will the image's "
                            + "bytes and root hash (an RSA key keeps them reproducible)");
                }
                b.keys.put(role, km);
                b.development.put(role, ks.kind() == KeySpec.Kind.DEV);
            }
            return b;
        }
    }

    static Prepared prepare(BuildSpec spec) throws IOException {
        // real key sources first, loaded and type-checked: a failure there must not leave dev keys behind
        Map<KeySpec, KeyMaterial> loaded = new HashMap<>();
        Map<KeyRole, KeySpec> sources = new EnumMap<>(KeyRole.class);
        for (KeyRole role : KeyRole.values()) {
            KeySpec ks = source(spec, role);
            if (ks == null) {
                continue;
            }
            sources.put(role, ks);
            if (ks.kind() != KeySpec.Kind.DEV) {
                KeyMaterial km = loaded.get(ks);
                if (km == null) {
                    km = load(ks);
                    loaded.put(ks, km);
                }
                checkType(role, ks, km);
            }
        }
        return new Prepared(spec, sources, loaded);
    }

    /** The key source of {@code role}: its own, else its fallback's; null when neither is given. */
    private static KeySpec source(BuildSpec spec, KeyRole role) {
        KeySpec ks = spec.keys().get(role);
        KeyRole from = role;
        while (ks == null && from.fallback() != null) {
            from = from.fallback();
            ks = spec.keys().get(from);
        }
        return ks;
    }

    private static void checkType(KeyRole role, KeySpec ks, KeyMaterial km) throws SpecException {
        if (role == KeyRole.PCR && !(km.certificate().getPublicKey() instanceof RSAPublicKey)) {
            throw new SpecException(PipelineException.Kind.SIGNING, ks.specFile(), ks.line(), ks.path(),
                    "the PCR policy key must be RSA (systemd's .pcrsig), this one is " + km.certificate().getPublicKey().getAlgorithm());
        }
        if (role == KeyRole.IMA && !(km.certificate().getPublicKey() instanceof RSAPublicKey)
                && !(km.certificate().getPublicKey() instanceof java.security.interfaces.ECPublicKey)) {
            throw new SpecException(PipelineException.Kind.SIGNING, ks.specFile(), ks.line(), ks.path(),
                    "the IMA key must be RSA or EC (kernel asymmetric keys), this one is " + km.certificate().getPublicKey().getAlgorithm());
        }
        if ((role == KeyRole.SECUREBOOT || role == KeyRole.VERITY || role == KeyRole.IPE)
                && !(km.certificate().getPublicKey() instanceof RSAPublicKey)) {
            throw new SpecException(PipelineException.Kind.SIGNING, ks.specFile(), ks.line(), ks.path(),
                    "the " + role.specName() + " key must be RSA (UEFI db and the kernel's platform keyring), this one is "
                            + km.certificate().getPublicKey().getAlgorithm());
        }
    }

    private static KeyMaterial load(KeySpec ks) throws SpecException {
        try {
            return switch (ks.kind()) {
                case FILES -> KeyLoader.fromFiles(ks.key(), ks.cert(), pass(ks.passEnv(), ks.passFile()));
                case PKCS12 -> KeyLoader.fromPkcs12(ks.pkcs12(), pass(ks.passEnv(), ks.passFile()), ks.alias());
                case PKCS11 -> {
                    KeySpec.Pkcs11 p = ks.pkcs11();
                    byte[] id = p.id() == null ? null : HexFormat.of().parseHex(p.id().replace(":", ""));
                    yield new Pkcs11KeySource(p.module(), p.token(), p.slot(), p.label(), id).load(pass(p.pinEnv(), p.pinFile()), ks.cert());
                }
                case DEV -> throw new IllegalStateException("dev keys are loaded by DevKeys");
            };
        } catch (SpecException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            String m = e instanceof IOException io ? PipelineException.describe(io) : e.getMessage();
            throw new SpecException(PipelineException.Kind.SIGNING, ks.specFile(), ks.line(), ks.path(), "key source unavailable: " + m);
        }
    }

    private static Secret pass(String env, Path file) throws IOException {
        if (env != null) {
            return Secret.ofEnvironment(env, System.getenv());
        }
        return file == null ? null : Secret.ofFile(file);
    }

    KeyMaterial get(KeyRole role) {
        return keys.get(role);
    }

    boolean has(KeyRole role) {
        return keys.containsKey(role);
    }

    boolean isDevelopment(KeyRole role) {
        return Boolean.TRUE.equals(development.get(role));
    }

    DevKeys dev() {
        return devKeys;
    }

    /** SHA-256 of the certificate's DER, lower-case hex (what the manifest records). */
    static String fingerprint(KeyMaterial km) throws dev.cairn.signing.SigningException {
        return dev.cairn.signing.CmsSigner.fingerprint(km.certificate());
    }
}

package dev.cairn.signing.ipe;

import dev.cairn.io.FormatException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A Linux IPE (Integrity Policy Enforcement) policy in the kernel's text grammar
 * ({@code security/ipe/policy_parser.c}, {@code Documentation/admin-guide/LSM/ipe.rst}).
 *
 * <p>{@link #parse} rejects everything the kernel's parser rejects (header tokens and order,
 * three u16 version components, op first and action last, known properties only, one default per
 * op, a default for every op unless there is a global one, digests as {@code ALG:HEX}) and, to
 * catch mistakes the kernel lets through, duplicate rules and digests of the wrong length for
 * their algorithm. Errors name the line. {@link #render} writes the canonical text.
 *
 * @param name     policy_name (no whitespace, no '#')
 * @param version  policy_version
 * @param defaults      per-op defaults ({@code DEFAULT op=OP action=…})
 * @param globalDefault the global default ({@code DEFAULT action=…}), or null when every op has its own
 * @param rules    rules in evaluation order
 */
public record IpePolicy(String name, Version version, Map<Op, Action> defaults, Action globalDefault, List<Rule> rules) {

    /** Operations IPE can decide on. */
    public enum Op {
        EXECUTE, FIRMWARE, KMODULE, KEXEC_IMAGE, KEXEC_INITRAMFS, POLICY, X509_CERT
    }

    /** Decisions. */
    public enum Action {
        ALLOW, DENY
    }

    /** {@code policy_version=MAJOR.MINOR.REVISION}, each 0…65535. */
    public record Version(int major, int minor, int revision) {
        public Version {
            for (int v : new int[] {major, minor, revision}) {
                if (v < 0 || v > 0xFFFF) {
                    throw new IllegalArgumentException("policy version components must be 0..65535");
                }
            }
        }

        /** Parses {@code X.Y.Z} as the kernel does (kstrtou16 base 10, exactly three parts). */
        public static Version parse(String s) {
            String[] p = s.split("\\.", -1);
            if (p.length != 3) {
                throw new IllegalArgumentException("policy_version needs exactly three numbers MAJOR.MINOR.REVISION, not '" + s + "'");
            }
            int[] v = new int[3];
            for (int i = 0; i < 3; i++) {
                String t = p[i].startsWith("+") ? p[i].substring(1) : p[i];
                if (t.isEmpty() || !t.chars().allMatch(c -> c >= '0' && c <= '9')) {
                    throw new IllegalArgumentException("policy_version component '" + p[i] + "' is not a number");
                }
                long n = t.length() > 6 ? Long.MAX_VALUE : Long.parseLong(t);
                if (n > 0xFFFF) {
                    throw new IllegalArgumentException("policy_version component " + p[i] + " is larger than 65535");
                }
                v[i] = (int) n;
            }
            return new Version(v[0], v[1], v[2]);
        }

        @Override
        public String toString() {
            return major + "." + minor + "." + revision;
        }
    }

    /** One property of a rule, as written ({@code key=value}). */
    public record Property(String key, String value) {
        @Override
        public String toString() {
            return key + "=" + value;
        }
    }

    /** A non-default rule: {@code op=OP PROPERTY… action=ACTION}. */
    public record Rule(Op op, List<Property> properties, Action action) {
        public Rule {
            properties = List.copyOf(properties);
        }

        @Override
        public String toString() {
            StringBuilder b = new StringBuilder("op=").append(op);
            for (Property p : properties) {
                b.append(' ').append(p);
            }
            return b.append(" action=").append(action).toString();
        }
    }

    public IpePolicy {
        if (name == null || name.isEmpty() || name.chars().anyMatch(c -> c <= ' ' || c == '#' || c == 0x7f)) {
            throw new IllegalArgumentException("policy_name must be non-empty without whitespace, control characters or '#'");
        }
        defaults = Map.copyOf(defaults);
        rules = List.copyOf(rules);
        if (globalDefault == null) {
            for (Op op : Op.values()) {
                if (!defaults.containsKey(op)) {
                    throw new IllegalArgumentException("no 'DEFAULT action=' and no 'DEFAULT op=" + op
                            + " action=': the kernel needs a default for every operation");
                }
            }
        }
    }

    /** The policy text: header, defaults (global first, then per op in kernel order), rules. */
    public String render() {
        StringBuilder b = new StringBuilder();
        b.append("policy_name=").append(name).append(" policy_version=").append(version).append('\n');
        if (globalDefault != null) {
            b.append("DEFAULT action=").append(globalDefault).append('\n');
        }
        for (Op op : Op.values()) {
            Action a = defaults.get(op);
            if (a != null) {
                b.append("DEFAULT op=").append(op).append(" action=").append(a).append('\n');
            }
        }
        for (Rule r : rules) {
            b.append(r).append('\n');
        }
        return b.toString();
    }

    /** Parses and validates a policy; {@code FormatException} messages name the line. */
    public static IpePolicy parse(byte[] text) throws FormatException {
        String s = new String(text, StandardCharsets.UTF_8);
        if (s.indexOf('\0') >= 0) {
            throw new FormatException("policy", null, "policy contains a NUL byte");
        }
        String name = null;
        Version version = null;
        Action global = null;
        Map<Op, Action> defaults = new EnumMap<>(Op.class);
        List<Rule> rules = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        int lineNo = 0;
        for (String raw : s.split("\n", -1)) {
            lineNo++;
            for (String line : raw.split("\r", -1)) {
                int hash = line.indexOf('#');
                String l = (hash >= 0 ? line.substring(0, hash) : line).stripTrailing();
                if (l.isEmpty()) {
                    continue;
                }
                List<String> tokens = new ArrayList<>();
                for (String t : l.split("[ \t]+")) {
                    if (!t.isEmpty()) {
                        tokens.add(t);
                    }
                }
                try {
                    if (name == null) {
                        if (tokens.size() != 2 || !tokens.get(0).startsWith("policy_name=") || !tokens.get(1).startsWith("policy_version=")) {
                            throw new IllegalArgumentException("the first line must be 'policy_name=NAME policy_version=X.Y.Z'");
                        }
                        name = tokens.get(0).substring("policy_name=".length());
                        if (name.isEmpty()) {
                            throw new IllegalArgumentException("empty policy_name");
                        }
                        version = Version.parse(tokens.get(1).substring("policy_version=".length()));
                        continue;
                    }
                    if (tokens.size() < 2) {
                        throw new IllegalArgumentException("a rule needs an op (or DEFAULT) and an action");
                    }
                    Action action = action(tokens.get(tokens.size() - 1));
                    if (tokens.get(0).equals("DEFAULT")) {
                        if (tokens.size() == 2) {
                            if (global != null) {
                                throw new IllegalArgumentException("a second global 'DEFAULT action='");
                            }
                            global = action;
                        } else if (tokens.size() == 3) {
                            Op op = op(tokens.get(1));
                            if (defaults.put(op, action) != null) {
                                throw new IllegalArgumentException("a second 'DEFAULT op=" + op + "'");
                            }
                        } else {
                            throw new IllegalArgumentException("a DEFAULT rule takes no properties");
                        }
                        continue;
                    }
                    Op op = op(tokens.get(0));
                    List<Property> props = new ArrayList<>();
                    for (String t : tokens.subList(1, tokens.size() - 1)) {
                        props.add(property(t));
                    }
                    Rule r = new Rule(op, props, action);
                    if (!seen.add(r.toString().toLowerCase(Locale.ROOT))) {
                        throw new IllegalArgumentException("duplicate rule '" + r + "'");
                    }
                    rules.add(r);
                } catch (IllegalArgumentException e) {
                    throw new FormatException("policy", null, "line " + lineNo + ": " + e.getMessage() + " in: " + l);
                }
            }
        }
        if (name == null) {
            throw new FormatException("policy", null, "empty policy: no 'policy_name=… policy_version=…' header");
        }
        try {
            return new IpePolicy(name, version, defaults, global, rules);
        } catch (IllegalArgumentException e) {
            throw new FormatException("policy", name, e.getMessage());
        }
    }

    private static Op op(String t) {
        if (t.startsWith("op=")) {
            for (Op op : Op.values()) {
                if (t.substring(3).equals(op.name())) {
                    return op;
                }
            }
        }
        throw new IllegalArgumentException("'" + t + "' is not op=EXECUTE|FIRMWARE|KMODULE|KEXEC_IMAGE|KEXEC_INITRAMFS|POLICY|X509_CERT");
    }

    private static Action action(String t) {
        return switch (t) {
            case "action=ALLOW" -> Action.ALLOW;
            case "action=DENY" -> Action.DENY;
            default -> throw new IllegalArgumentException("the last token must be action=ALLOW or action=DENY, not '" + t + "'");
        };
    }

    /** Parses and checks one property token. */
    public static Property property(String t) {
        int eq = t.indexOf('=');
        if (eq <= 0) {
            throw new IllegalArgumentException("'" + t + "' is not a property");
        }
        String key = t.substring(0, eq);
        String value = t.substring(eq + 1);
        switch (key) {
            case "boot_verified", "dmverity_signature", "fsverity_signature" -> {
                if (!value.equals("TRUE") && !value.equals("FALSE")) {
                    throw new IllegalArgumentException(key + " must be TRUE or FALSE, not '" + value + "'");
                }
            }
            case "dmverity_roothash", "fsverity_digest" -> digest(key, value);
            default -> throw new IllegalArgumentException("unknown property '" + key + "' (boot_verified, dmverity_roothash, "
                    + "dmverity_signature, fsverity_digest, fsverity_signature)");
        }
        return new Property(key, value);
    }

    private static void digest(String key, String value) {
        int colon = value.indexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException(key + " must be ALG:HEX, not '" + value + "'");
        }
        String alg = value.substring(0, colon);
        String hex = value.substring(colon + 1);
        if (hex.isEmpty() || hex.length() % 2 != 0) {
            throw new IllegalArgumentException(key + " digest must be a non-empty, even number of hex digits");
        }
        try {
            HexFormat.of().parseHex(hex);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(key + " digest is not hex: '" + hex + "'");
        }
        int expected = switch (alg) {
            case "sha1" -> 20;
            case "sha256" -> 32;
            case "sha384" -> 48;
            case "sha512" -> 64;
            default -> -1;
        };
        if (expected < 0 && !alg.matches("[a-z0-9-]+")) {
            throw new IllegalArgumentException(key + " algorithm '" + alg + "' is not a kernel hash name");
        }
        if (expected > 0 && hex.length() != expected * 2) {
            throw new IllegalArgumentException(key + " " + alg + " digest must have " + expected * 2 + " hex digits, not " + hex.length());
        }
    }
}

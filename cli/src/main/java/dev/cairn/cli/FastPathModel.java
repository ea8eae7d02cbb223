package dev.cairn.cli;

import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.Field;
import java.lang.reflect.Member;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * Build-time generator of the class {@code dev.cairn.cli.FastPathTable} that holds the table {@link FastPath} parses
 * ordinary command lines with instead of building picocli's model at run time (reading the
 * annotations of a command and its mixins, and the annotation proxy classes a JDK 17 makes for them,
 * is some 35 ms of every small command; see docs/startup.md). The table is written from picocli's own
 * model of the full command tree, so the two cannot drift: a command, option or parameter whose
 * picocli behaviour the table cannot state exactly (argument groups, custom converters, optional
 * values, maps, anything unusual) is left out of the table, and a command line that uses it goes
 * to picocli. FastPathTest parses generated command lines both ways and compares the results.
 *
 * <p>Format, one record per line, fields separated by a tab:
 * <pre>
 * cmd   PATH  CLASS                 a leaf command ("verity format") and its class
 * spec  FIELD                       the command's {@code @Spec} field
 * mixin PATH  CLASS                 a {@code @Mixin} field (PATH: fields from the command, dotted)
 * opt   NAMES TARGET TYPE KIND REQUIRED DEFAULT
 * pos   FROM  TO  TARGET TYPE KIND REQUIRED
 * end
 * </pre>
 * NAMES are comma-separated; TARGET is a dotted field path, or one ending in {@code ()} for a
 * setter method; TYPE is {@code String}, {@code Path}, {@code File}, {@code int}, {@code Integer},
 * {@code long}, {@code Long}, {@code boolean}, {@code Boolean} or {@code enum:CLASS}; KIND is
 * {@code flag} (no value), {@code one} (one value, once), {@code list} (one value each time, into a
 * {@code List}), {@code split:REGEX} (a list whose values are also split on a comma) or {@code x}
 * (anything else: a command line that gives it goes to picocli); DEFAULT is {@code -} or
 * {@code =VALUE}; TO is {@code *} for "to the end".
 *
 * <p>Usage: {@code FastPathModel <classes-directory>}.
 */
public final class FastPathModel {
    /**
     * Commands that read picocli's model or parse result while they run ({@code tpm policy} keeps
     * the order of its options, {@code sysext create} asks whether an option was given): the stand-in
     * {@link CommandSpec} of the fast path has neither. Groups never reach the fast path (no leaf).
     */
    static final Set<String> EXCLUDED = Set.of("tpm policy", "sysext create", "help");

    private FastPathModel() {
    }

    /** The class that holds the table (a class, not a resource: see {@link FastPath#table}). */
    static final String TABLE_CLASS = "dev.cairn.cli.FastPathTable";

    public static void main(String[] args) throws IOException {
        Path classes = Path.of(args[0]);
        Path out = classes.resolve(TABLE_CLASS.replace('.', '/') + ".class");
        Files.createDirectories(out.getParent());
        Path tmp = out.resolveSibling(out.getFileName() + ".tmp");
        Files.write(tmp, tableClass(describe()));
        Files.move(tmp, out, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * {@code final class FastPathTable { static String text() { return "..."; } }}: the text as
     * string constants (at most 16 000 characters each, well under the class file's 65 535 bytes of
     * modified UTF-8), joined by {@link String#concat}.
     */
    static byte[] tableClass(String text) {
        org.objectweb.asm.ClassWriter w = new org.objectweb.asm.ClassWriter(org.objectweb.asm.ClassWriter.COMPUTE_MAXS);
        String internal = TABLE_CLASS.replace('.', '/');
        w.visit(org.objectweb.asm.Opcodes.V17, org.objectweb.asm.Opcodes.ACC_FINAL | org.objectweb.asm.Opcodes.ACC_SUPER, internal, null,
                "java/lang/Object", null);
        org.objectweb.asm.MethodVisitor m = w.visitMethod(org.objectweb.asm.Opcodes.ACC_STATIC, "text", "()Ljava/lang/String;", null, null);
        m.visitCode();
        int chunk = 16_000;
        m.visitLdcInsn(text.substring(0, Math.min(chunk, text.length())));
        for (int at = chunk; at < text.length(); at += chunk) {
            m.visitLdcInsn(text.substring(at, Math.min(at + chunk, text.length())));
            m.visitMethodInsn(org.objectweb.asm.Opcodes.INVOKEVIRTUAL, "java/lang/String", "concat", "(Ljava/lang/String;)Ljava/lang/String;", false);
        }
        m.visitInsn(org.objectweb.asm.Opcodes.ARETURN);
        m.visitMaxs(0, 0);
        m.visitEnd();
        w.visitEnd();
        return w.toByteArray();
    }

    /** The table for the full command tree. */
    static String describe() {
        StringWriter sink = new StringWriter();
        CommandLine root = Main.commandLine(new PrintWriter(sink), new PrintWriter(sink));
        Map<String, CommandLine> leaves = new TreeMap<>();
        collect(root, "", leaves);
        StringBuilder b = new StringBuilder();
        b.append("# generated by dev.cairn.cli.FastPathModel from picocli's model of the command tree\n");
        for (Map.Entry<String, CommandLine> e : leaves.entrySet()) {
            String entry = command(e.getKey(), e.getValue().getCommandSpec());
            if (entry != null) {
                b.append(entry);
            }
        }
        return b.toString();
    }

    private static void collect(CommandLine cl, String prefix, Map<String, CommandLine> leaves) {
        for (Map.Entry<String, CommandLine> e : cl.getSubcommands().entrySet()) {
            CommandLine sub = e.getValue();
            if (!sub.getCommandName().equals(e.getKey())) {
                continue; // an alias: picocli names the command by its own name in messages
            }
            String path = prefix.isEmpty() ? e.getKey() : prefix + " " + e.getKey();
            if (sub.getSubcommands().isEmpty()) {
                leaves.put(path, sub);
            } else {
                collect(sub, path, leaves);
            }
        }
    }

    /** The table entry of one leaf, or null when the fast path must leave it to picocli. */
    static String command(String path, CommandSpec spec) {
        Object user = spec.userObject();
        if (EXCLUDED.contains(path) || user == null || user instanceof CommandLine.HelpCommand
                || !(user instanceof java.util.concurrent.Callable<?> || user instanceof Runnable)
                || !spec.argGroups().isEmpty() || !spec.unmatchedArgsBindings().isEmpty()
                || spec.parser().abbreviatedOptionsAllowed()) {
            return reject(path, 1);
        }
        Class<?> type = user.getClass();
        if (type.getEnclosingClass() != null && !Modifier.isStatic(type.getModifiers())) {
            return reject(path, 2);
        }
        StringBuilder b = new StringBuilder();
        b.append("cmd\t").append(path).append('\t').append(type.getName()).append('\n');
        // where each object of the command lives: the command itself, and its mixins by field path
        Map<Object, String> owners = new IdentityHashMap<>();
        owners.put(user, "");
        if (!mixins(spec, user, "", owners, b)) {
            return reject(path, 3);
        }
        String specField = specField(type, spec);
        if (specField == null) {
            return reject(path, 4);
        }
        if (!specField.isEmpty()) {
            b.append("spec\t").append(specField).append('\n');
        }
        for (OptionSpec o : spec.options()) {
            if (o.inherited() || o.usageHelp() || o.versionHelp()) {
                continue; // --stacktrace (FastPath knows it), --help and --version (picocli's)
            }
            String target = target(o, owners);
            if (target == null) {
                return reject(path, 5);
            }
            String kind = kind(o);
            String typeName = typeName(o);
            if (kind.equals("x") || typeName == null) {
                if (o.required() || o.defaultValue() != null) {
                    return reject(path + " " + o.longestName(), 6); // picocli would apply or demand it even when it is not given
                }
                kind = "x";
                typeName = "-";
            }
            String def = o.defaultValue();
            if (def != null && (def.contains("${") || def.indexOf('\t') >= 0 || def.indexOf('\n') >= 0 || !kind.equals("one"))) {
                return reject(path, 7);
            }
            b.append("opt\t").append(String.join(",", o.names())).append('\t').append(target).append('\t').append(typeName)
                    .append('\t').append(kind).append('\t').append(o.required() ? "required" : "optional").append('\t')
                    .append(def == null ? "-" : "=" + def).append('\n');
        }
        for (PositionalParamSpec p : spec.positionalParameters()) {
            if (p.inherited()) {
                return reject(path, 8);
            }
            String target = target(p, owners);
            String kind = kind(p);
            String typeName = typeName(p);
            CommandLine.Range index = p.index();
            if (target == null || kind.equals("x") || typeName == null || p.defaultValue() != null
                    || index.isUnspecified() && !kind.equals("list")) {
                return reject(path + " " + p.paramLabel(), 9);
            }
            int min = p.arity().min();
            if (kind.equals("one") && (index.min() != index.max() || index.isVariable() || min > 1)
                    || kind.equals("list") && !index.isVariable()) {
                return reject(path, 10);
            }
            b.append("pos\t").append(index.min()).append('\t').append(index.isVariable() ? "*" : String.valueOf(index.max()))
                    .append('\t').append(target).append('\t').append(typeName).append('\t').append(kind).append('\t')
                    .append(min > 0 ? "required" : "optional").append('\n');
        }
        b.append("end\n");
        return b.toString();
    }

        /** Null, and with -Dcairn.fastpath.debug=true which rule left a command out (for whoever extends the table). */
    private static String reject(String what, int rule) {
        if (Boolean.getBoolean("cairn.fastpath.debug")) {
            System.err.println("left out of the fast path: " + what + " (rule " + rule + ")");
        }
        return null;
    }

/** Records each mixin's field path; false when a mixin is not a plain field or carries its own @Spec. */
    private static boolean mixins(CommandSpec spec, Object owner, String prefix, Map<Object, String> owners, StringBuilder b) {
        for (Map.Entry<String, CommandSpec> e : spec.mixins().entrySet()) {
            if (e.getKey().equals("mixinStandardHelpOptions")) {
                continue; // picocli's --help and --version: a command line with either goes to picocli
            }
            CommandLine.Model.IAnnotatedElement element = spec.mixinAnnotatedElements().get(e.getKey());
            if (element == null || !(element.userObject() instanceof Field f) || !f.getDeclaringClass().isInstance(owner)) {
                return false;
            }
            Object mixin = e.getValue().userObject();
            if (mixin == null || owners.containsKey(mixin) || !hasNoArgConstructor(mixin.getClass())
                    || !e.getValue().argGroups().isEmpty() || hasAnnotatedSpec(mixin.getClass())) {
                return false;
            }
            String path = prefix + f.getName();
            owners.put(mixin, path + ".");
            b.append("mixin\t").append(path).append('\t').append(mixin.getClass().getName()).append('\n');
            if (!mixins(e.getValue(), mixin, path + ".", owners, b)) {
                return false;
            }
        }
        return true;
    }

    private static boolean hasNoArgConstructor(Class<?> c) {
        try {
            c.getDeclaredConstructor();
            return !(c.getEnclosingClass() != null && !Modifier.isStatic(c.getModifiers()));
        } catch (NoSuchMethodException e) {
            return false;
        }
    }

    private static boolean hasAnnotatedSpec(Class<?> c) {
        for (Class<?> k = c; k != null && k != Object.class; k = k.getSuperclass()) {
            for (Field f : k.getDeclaredFields()) {
                if (f.isAnnotationPresent(CommandLine.Spec.class) || f.isAnnotationPresent(CommandLine.ParentCommand.class)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The command's @Spec field name ("" for none), or null when it has another kind of injection. */
    private static String specField(Class<?> type, CommandSpec spec) {
        String found = "";
        for (Class<?> k = type; k != null && k != Object.class; k = k.getSuperclass()) {
            for (Field f : k.getDeclaredFields()) {
                if (f.isAnnotationPresent(CommandLine.ParentCommand.class)) {
                    return null;
                }
                if (f.isAnnotationPresent(CommandLine.Spec.class)) {
                    if (!found.isEmpty() || f.getType() != CommandSpec.class
                            || f.getAnnotation(CommandLine.Spec.class).value() != CommandLine.Spec.Target.SELF) {
                        return null;
                    }
                    found = f.getName();
                }
            }
            for (Method m : k.getDeclaredMethods()) {
                if (m.isAnnotationPresent(CommandLine.Spec.class) || m.isAnnotationPresent(CommandLine.ParentCommand.class)) {
                    return null;
                }
            }
        }
        return found;
    }

    /** The dotted path of the field or setter an option or parameter is bound to, or null. */
    private static String target(ArgSpec a, Map<Object, String> owners) {
        Object bound = a.userObject();
        if (!(bound instanceof Field || bound instanceof Method) || ((Member) bound).getDeclaringClass() == null) {
            return null;
        }
        Member m = (Member) bound;
        if (Modifier.isStatic(m.getModifiers()) || Modifier.isFinal(m.getModifiers()) && bound instanceof Field) {
            return null;
        }
        String owner = null;
        for (Map.Entry<Object, String> e : owners.entrySet()) {
            if (m.getDeclaringClass().isInstance(e.getKey())) {
                if (owner != null) {
                    return null; // two objects of that class: ambiguous
                }
                owner = e.getValue();
            }
        }
        if (owner == null) {
            return null;
        }
        if (bound instanceof Method method) {
            if (method.getParameterCount() != 1 || setters(method.getDeclaringClass(), method.getName()) != 1) {
                return null; // FastPath finds a setter by its name: one of that name only
            }
            return owner + method.getName() + "()";
        }
        return owner + m.getName();
    }

    /** How many one-argument methods called {@code name} {@code type} and its superclasses declare. */
    private static int setters(Class<?> type, String name) {
        int n = 0;
        for (Class<?> k = type; k != null && k != Object.class; k = k.getSuperclass()) {
            for (Method m : k.getDeclaredMethods()) {
                if (m.getName().equals(name) && m.getParameterCount() == 1) {
                    n++;
                }
            }
        }
        return n;
    }

    private static String kind(ArgSpec a) {
        boolean plainPreprocessor = a.preprocessor().getClass().getName().equals("picocli.CommandLine$NoOpParameterPreprocessor");
        if (a.converters().length > 0 || a.parameterConsumer() != null || !plainPreprocessor || a.interactive()
                || a.hasInitialValue() && a.initialValue() instanceof Map<?, ?>) {
            return "x";
        }
        if (a instanceof OptionSpec o && (o.negatable() || o.fallbackValue() != null && !o.fallbackValue().isEmpty()
                && !(a.arity().min() == 0 && a.arity().max() == 0))) {
            return "x";
        }
        Class<?> t = a.type();
        CommandLine.Range arity = a.arity();
        if (a.isMultiValue()) {
            if (t != List.class || a.auxiliaryTypes().length != 1 || arity.min() != 1 || arity.max() != 1 && !(a instanceof PositionalParamSpec)) {
                return "x";
            }
            String split = a.splitRegex();
            if (split == null || split.isEmpty()) {
                return "list";
            }
            return split.equals(",") ? "split:," : "x";
        }
        if (t == boolean.class || t == Boolean.class) {
            return arity.min() == 0 && arity.max() == 0 && a instanceof OptionSpec ? "flag" : "x";
        }
        if (arity.min() == 1 && arity.max() == 1 || a instanceof PositionalParamSpec && arity.max() == 1) {
            return "one";
        }
        return "x";
    }

    /** The value type for the table, or null when the fast path does not convert it. */
    private static String typeName(ArgSpec a) {
        Class<?> t = a.isMultiValue() ? a.auxiliaryTypes()[0] : a.type();
        if (t == String.class || t == Path.class || t == File.class || t == int.class || t == Integer.class || t == long.class
                || t == Long.class || t == boolean.class || t == Boolean.class) {
            return t.getSimpleName();
        }
        if (t.isEnum()) {
            return "enum:" + t.getName();
        }
        return null;
    }
}

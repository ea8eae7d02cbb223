package dev.cairn.cli;

import java.io.File;
import java.io.PrintWriter;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;

/**
 * Runs an ordinary command line of a leaf command without building picocli's model of it: the
 * options, parameters and mixins come from the table {@link FastPathModel} writes at build time
 * from picocli's own model (the generated class {@code FastPathTable}), and are set on a new instance of
 * the command as picocli would set them. Picocli's model of one command costs 35-55 ms of a run
 * that takes 110-150 ms in all (reading the annotations, and the proxy classes a JDK 17 makes for
 * each annotation type, which its class-data sharing cannot keep); this costs about 3 ms.
 *
 * <p>Anything the table does not state exactly goes to picocli instead, before the command runs:
 * {@code --help}, {@code --version}, an unknown or misspelt option, a missing or surplus parameter, a
 * value picocli's converter would refuse, an option given twice, {@code --}, clustered or attached
 * short options, any value that starts with {@code -}, a command or option the table leaves out. So
 * every message about the command line is picocli's. FastPathTest parses generated command lines
 * both ways and compares every field; DispatchTest runs commands both ways.
 *
 * <p>The command's {@code @Spec} is a stand-in named like the command in the full tree ({@code cairn
 * verity format}), with cairn's output streams and exception handlers: what the commands in the
 * table use it for (their output, and usage errors they find themselves). Commands that read
 * picocli's model or parse result are left out of the table ({@link FastPathModel#EXCLUDED}).
 */
final class FastPath {
    private FastPath() {
    }

    /**
     * One option or positional parameter of the table (a class, not a record: it is a map key, and
     * a record's equals and hashCode are linked through method handles on first use, milliseconds
     * of start-up).
     */
    private static final class Arg {
        private final String target;
        private final String type;
        private final String kind;
        private final boolean required;
        private final String defaultValue;
        private final int from;
        private final int to;

        Arg(String target, String type, String kind, boolean required, String defaultValue, int from, int to) {
            this.target = target;
            this.type = type;
            this.kind = kind;
            this.required = required;
            this.defaultValue = defaultValue;
            this.from = from;
            this.to = to;
        }

        String target() {
            return target;
        }

        String type() {
            return type;
        }

        String kind() {
            return kind;
        }

        boolean required() {
            return required;
        }

        String defaultValue() {
            return defaultValue;
        }

        int from() {
            return from;
        }

        int to() {
            return to;
        }
    }

    /** One command of the table. */
    private record Entry(String path, String className, String specField, List<String[]> mixins, Map<String, Arg> options,
            List<Arg> requiredOptions, List<Arg> defaults, List<Arg> positionals) {
    }

    /**
     * Runs {@code args} when they name a command of the table in a form the fast path takes;
     * otherwise returns null before anything ran, and picocli handles them.
     */
    static Integer run(PrintWriter out, PrintWriter err, String[] args) {
        Prepared p = prepare(args);
        if (p == null) {
            return null;
        }
        ExceptionMapper mapper = Main.exceptionMapper(p.pathLength);
        LateCommandLine late = null;
        if (p.commandLine != null) {
            Main.configure(p.commandLine, out, err, mapper);
        } else {
            late = new LateCommandLine(p, out, err, mapper);
            LazySpec.PENDING.set(late);
        }
        if (p.stacktrace) {
            Main.requestStacktrace();
        }
        try {
            Object result = p.command instanceof Callable<?> c ? c.call() : runRunnable((Runnable) p.command);
            return result instanceof Integer code ? code : 0;
        } catch (CommandLine.ParameterException e) {
            return mapper.handleParseException(e, Arrays.copyOfRange(args, p.pathLength, args.length));
        } catch (Exception e) {
            return mapper.handleExecutionException(e, late == null ? p.commandLine : late.get(), null);
        } finally {
            LazySpec.PENDING.remove();
        }
    }

    /**
     * The stand-in of a {@link LazySpec} command, joined and set up when the command first asks for
     * it (a class, not a lambda: linking one costs a fresh JVM 1-2 ms, more when it is the first).
     */
    private static final class LateCommandLine implements java.util.function.Supplier<CommandLine> {
        private final Prepared p;
        private final PrintWriter out;
        private final PrintWriter err;
        private final ExceptionMapper mapper;
        private CommandLine cl;

        LateCommandLine(Prepared p, PrintWriter out, PrintWriter err, ExceptionMapper mapper) {
            this.p = p;
            this.out = out;
            this.err = err;
            this.mapper = mapper;
        }

        @Override
        public CommandLine get() {
            if (cl == null) {
                CommandLine made = p.standIn.get(p.maker, p.name);
                Main.configure(made, out, err, mapper);
                cl = made;
            }
            return cl;
        }
    }

    /** A command made and given its options, ready to run. */
    static final class Prepared {
        final Object command;
        /** Null for a {@link LazySpec} command: then {@link #standIn} is still being made by {@link #maker}. */
        final CommandLine commandLine;
        final int pathLength;
        final boolean stacktrace;
        final StandIn standIn;
        final Thread maker;
        final String name;

        Prepared(Object command, CommandLine commandLine, int pathLength, boolean stacktrace, StandIn standIn, Thread maker, String name) {
            this.command = command;
            this.commandLine = commandLine;
            this.pathLength = pathLength;
            this.stacktrace = stacktrace;
            this.standIn = standIn;
            this.maker = maker;
            this.name = name;
        }
    }

    /** The command {@code args} name, made and set up as picocli would, or null when picocli must do it. */
    static Prepared prepare(String[] args) {
        if (args.length == 0 || args[0].startsWith("-")) {
            return null;
        }
        // the stand-in command line from the start: if the table does not take these arguments, it
        // is a thread that made a CommandLine for nothing while picocli makes its own
        StandIn standIn = new StandIn();
        Thread maker = new Thread(standIn, "cairn-spec");
        maker.setDaemon(true);
        maker.start();
        String table = table();
        if (table == null) {
            return null;
        }
        Entry entry = null;
        int pathLength = 0;
        StringBuilder path = new StringBuilder();
        for (int k = 0; k < args.length && k < 4 && entry == null; k++) {
            // one word each ("verity format" as one argument is no command for picocli)
            if (args[k].startsWith("-") || args[k].indexOf(' ') >= 0 || args[k].indexOf('\t') >= 0 || args[k].indexOf('\n') >= 0) {
                return null;
            }
            if (k > 0) {
                path.append(' ');
            }
            path.append(args[k]);
            entry = entry(table, path.toString());
            pathLength = k + 1;
        }
        if (entry == null) {
            return null;
        }
        Parsed parsed = parse(entry, Arrays.copyOfRange(args, pathLength, args.length));
        if (parsed == null) {
            return null;
        }
        try {
            Object command = instantiate(entry.className());
            String name = "cairn ".concat(entry.path());
            // the spec first, as picocli injects it before parsing: setters use it for their errors
            // (a LazySpec command has none that do, and asks for its spec when it needs it)
            CommandLine cl = null;
            if (!(command instanceof LazySpec)) {
                cl = standIn.get(maker, name);
                if (!entry.specField().isEmpty()) {
                    field(command.getClass(), entry.specField()).set(command, cl.getCommandSpec());
                }
            }
            for (String[] mixin : entry.mixins()) {
                Object owner = owner(command, mixin[0]);
                Field f = field(owner.getClass(), last(mixin[0]));
                if (f.get(owner) == null) {
                    f.set(owner, instantiate(mixin[1]));
                }
            }
            for (Arg a : entry.defaults()) {
                if (!parsed.values.containsKey(a)) {
                    Object value = convert(a.type(), a.defaultValue());
                    if (value == null) {
                        return null;
                    }
                    set(command, a, value);
                }
            }
            for (Map.Entry<Arg, Object> v : parsed.values.entrySet()) {
                set(command, v.getKey(), v.getValue());
            }
            return new Prepared(command, cl, pathLength, parsed.stacktrace, standIn, maker, name);
        } catch (CommandLine.ParameterException | IllegalArgumentException e) {
            return null; // a setter refused a value, or a default did not convert: picocli says why
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("the fast path table does not fit " + entry.className() + " (rebuild cairn): " + e, e);
        }
    }

    /**
     * Makes the stand-in command line on a second thread while the table is read and the command
     * made and given its options (picocli's CommandLine sets up its converters and usage model:
     * some 6-10 ms when cold).
     */
    private static final class StandIn implements Runnable {
        private CommandLine made;
        private RuntimeException failure;

        @Override
        public void run() {
            try {
                made = new CommandLine(CommandLine.Model.CommandSpec.create());
            } catch (RuntimeException e) {
                failure = e;
            }
        }

        /** The command line, once {@code maker} made it, named {@code name} like the full tree's. */
        CommandLine get(Thread maker, String name) {
            dev.cairn.io.Futures.joinUninterruptibly(maker);
            if (failure != null) {
                throw new IllegalStateException("cannot set up the command line: " + failure, failure);
            }
            made.getCommandSpec().name(name);
            return made;
        }
    }

    private static Object runRunnable(Runnable r) {
        r.run();
        return null;
    }

    /** The values a command line gives, by table entry, and whether it asked for --stacktrace. */
    private static final class Parsed {
        /** In command-line order, as picocli sets them (setters may check each other). */
        final Map<Arg, Object> values = new LinkedHashMap<>();
        boolean stacktrace;
    }

    /** The command line after the command's path, or null when picocli must parse it. */
    private static Parsed parse(Entry entry, String[] args) {
        Parsed p = new Parsed();
        List<String> positionals = new ArrayList<>();
        Map<Arg, List<Object>> lists = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("-")) {
                positionals.add(a);
                continue;
            }
            if (a.equals("--stacktrace")) {
                if (p.stacktrace) {
                    return null; // twice: picocli's error
                }
                p.stacktrace = true;
                continue;
            }
            String name = a;
            String value = null;
            int eq = a.indexOf('=');
            if (a.startsWith("--") && eq > 2) {
                name = a.substring(0, eq);
                value = a.substring(eq + 1);
                if (value.isEmpty()) {
                    return null;
                }
            }
            Arg o = entry.options().get(name);
            if (o == null || o.kind().equals("x")) {
                return null;
            }
            if (o.kind().equals("flag")) {
                if (value != null || p.values.containsKey(o)) {
                    return null;
                }
                p.values.put(o, Boolean.TRUE);
                continue;
            }
            if (value == null) {
                if (i + 1 >= args.length || args[i + 1].startsWith("-")) {
                    return null;
                }
                value = args[++i];
            }
            if (o.kind().equals("one")) {
                if (p.values.containsKey(o)) {
                    return null; // picocli refuses an option given twice
                }
                Object v = convert(o.type(), value);
                if (v == null) {
                    return null;
                }
                p.values.put(o, v);
                continue;
            }
            List<Object> list = lists.get(o);
            if (list == null) {
                list = new ArrayList<>();
                lists.put(o, list);
                p.values.put(o, list);
            }
            if (o.kind().equals("split:,")) {
                int start = 0;
                while (true) {
                    int comma = value.indexOf(',', start);
                    Object v = convert(o.type(), comma < 0 ? value.substring(start) : value.substring(start, comma));
                    if (v == null) {
                        return null;
                    }
                    list.add(v);
                    if (comma < 0) {
                        break;
                    }
                    start = comma + 1;
                }
            } else {
                Object v = convert(o.type(), value);
                if (v == null) {
                    return null;
                }
                list.add(v);
            }
        }
        for (Arg o : entry.requiredOptions()) {
            if (!p.values.containsKey(o)) {
                return null;
            }
        }
        int taken = 0;
        for (Arg pos : entry.positionals()) {
            if (pos.to() < 0) {
                List<Object> list = new ArrayList<>();
                for (int i = pos.from(); i < positionals.size(); i++) {
                    Object v = convert(pos.type(), positionals.get(i));
                    if (v == null) {
                        return null;
                    }
                    list.add(v);
                }
                if (list.isEmpty()) {
                    if (pos.required()) {
                        return null;
                    }
                } else {
                    p.values.put(pos, list);
                }
                taken = Math.max(taken, positionals.size());
                continue;
            }
            if (pos.from() >= positionals.size()) {
                if (pos.required()) {
                    return null;
                }
                continue;
            }
            Object v = convert(pos.type(), positionals.get(pos.from()));
            if (v == null) {
                return null;
            }
            p.values.put(pos, v);
            taken = Math.max(taken, pos.from() + 1);
        }
        return taken == positionals.size() ? p : null;
    }

    /** A value as picocli's built-in converter makes it, or null when that converter would refuse it. */
    static Object convert(String type, String value) {
        try {
            switch (type) {
                case "String":
                    return value;
                case "Path":
                    return Path.of(value);
                case "File":
                    return new File(value);
                case "int":
                case "Integer":
                    return Integer.valueOf(value);
                case "long":
                case "Long":
                    return Long.valueOf(value);
                default:
                    if (type.startsWith("enum:")) {
                        Class<?> c = Class.forName(type.substring(5), false, FastPath.class.getClassLoader());
                        for (Object constant : c.getEnumConstants()) {
                            if (((Enum<?>) constant).name().equals(value)) {
                                return constant;
                            }
                        }
                    }
                    return null;
            }
        } catch (NumberFormatException | InvalidPathException | ClassNotFoundException e) {
            return null;
        }
    }

    private static void set(Object command, Arg a, Object value) throws ReflectiveOperationException {
        Object owner = owner(command, a.target());
        String member = last(a.target());
        try {
            if (member.endsWith("()")) {
                Method m = method(owner.getClass(), member.substring(0, member.length() - 2));
                m.invoke(owner, value);
            } else {
                field(owner.getClass(), member).set(owner, value);
            }
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw e;
        }
    }

    /** The object a dotted target path ends in (the command itself for a plain name). */
    private static Object owner(Object command, String target) throws ReflectiveOperationException {
        Object o = command;
        int start = 0;
        for (int dot = target.indexOf('.'); dot >= 0; dot = target.indexOf('.', start)) {
            o = field(o.getClass(), target.substring(start, dot)).get(o);
            if (o == null) {
                throw new NoSuchFieldException(target + " (a null mixin)");
            }
            start = dot + 1;
        }
        return o;
    }

    private static String last(String target) {
        return target.substring(target.lastIndexOf('.') + 1);
    }

    private static Field field(Class<?> type, String name) throws NoSuchFieldException {
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            try {
                Field f = c.getDeclaredField(name);
                f.setAccessible(true);
                return f;
            } catch (NoSuchFieldException e) {
                // look in the superclass
            }
        }
        throw new NoSuchFieldException(type.getName() + "." + name);
    }

    private static Method method(Class<?> type, String name) throws NoSuchMethodException {
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            for (Method m : c.getDeclaredMethods()) {
                if (m.getName().equals(name) && m.getParameterCount() == 1) {
                    m.setAccessible(true);
                    return m;
                }
            }
        }
        throw new NoSuchMethodException(type.getName() + "." + name);
    }

    private static Object instantiate(String className) throws ReflectiveOperationException {
        Constructor<?> c = Class.forName(className, true, FastPath.class.getClassLoader()).getDeclaredConstructor();
        c.setAccessible(true);
        return c.newInstance();
    }

    /**
     * The table's text, or null when this build has none (then picocli handles everything). It is
     * a generated class rather than a resource: finding a resource first searches the JDK's own
     * modules (opening its image) and then the jar through a URL connection, some 4 ms.
     */
    static String table() {
        try {
            Method text = Class.forName(FastPathModel.TABLE_CLASS, true, FastPath.class.getClassLoader()).getDeclaredMethod("text");
            text.setAccessible(true);
            return (String) text.invoke(null);
        } catch (ClassNotFoundException e) {
            return null;
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("the fast path table is unreadable (rebuild cairn): " + e, e);
        }
    }

    /** The table entry of {@code path}, or null. */
    private static Entry entry(String table, String path) {
        String head = "\ncmd\t".concat(path).concat("\t");
        int at = table.indexOf(head);
        if (at < 0) {
            return null;
        }
        int lineEnd = table.indexOf('\n', at + 1);
        String className = table.substring(at + head.length(), lineEnd);
        String specField = "";
        List<String[]> mixins = new ArrayList<>();
        Map<String, Arg> options = new HashMap<>();
        List<Arg> required = new ArrayList<>();
        List<Arg> defaults = new ArrayList<>();
        List<Arg> positionals = new ArrayList<>();
        int pos = lineEnd + 1;
        while (true) {
            int end = table.indexOf('\n', pos);
            if (end < 0) {
                throw new IllegalStateException("the fast path table ends inside " + path);
            }
            String[] f = table.substring(pos, end).split("\t");
            pos = end + 1;
            switch (f[0]) {
                case "end":
                    return new Entry(path, className, specField, mixins, options, required, defaults, positionals);
                case "spec":
                    specField = f[1];
                    break;
                case "mixin":
                    mixins.add(new String[] {f[1], f[2]});
                    break;
                case "opt": {
                    Arg a = new Arg(f[2], f[3], f[4], f[5].equals("required"), f[6].equals("-") ? null : f[6].substring(1), -1, -1);
                    int start = 0;
                    String names = f[1];
                    for (int comma = names.indexOf(','); ; comma = names.indexOf(',', start)) {
                        options.put(comma < 0 ? names.substring(start) : names.substring(start, comma), a);
                        if (comma < 0) {
                            break;
                        }
                        start = comma + 1;
                    }
                    if (a.required()) {
                        required.add(a);
                    }
                    if (a.defaultValue() != null) {
                        defaults.add(a);
                    }
                    break;
                }
                case "pos":
                    positionals.add(new Arg(f[3], f[4], f[5], f[6].equals("required"), null, Integer.parseInt(f[1]),
                            f[2].equals("*") ? -1 : Integer.parseInt(f[2])));
                    break;
                default:
                    throw new IllegalStateException("the fast path table has a line it does not know in " + path + ": " + f[0]);
            }
        }
    }
}

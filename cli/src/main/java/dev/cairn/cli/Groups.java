package dev.cairn.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;

/**
 * Command groups whose subcommands arrive with later capabilities. Invoked without a subcommand
 * they print their usage and exit 2; they never pretend to do work.
 */
final class Groups {
    private Groups() {
    }

    abstract static class Group implements Callable<Integer> {
        @Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            spec.commandLine().usage(spec.commandLine().getErr());
            return ExitCode.USAGE.code();
        }
    }

    @Command(name = "squashfs", mixinStandardHelpOptions = true,
            description = {"SquashFS images: create, ls, cat, extract, info.", "(Not implemented yet: coming with the SquashFS issue.)"})
    static final class Squashfs extends Group {
    }

    @Command(name = "uki", mixinStandardHelpOptions = true,
            description = {"Unified Kernel Images: build, inspect, measure (PCR 11).", "(Not implemented yet: coming with the UKI issue.)"})
    static final class Uki extends Group {
    }

    @Command(name = "sign", mixinStandardHelpOptions = true,
            description = {"Signatures: CMS/PKCS#7, PE/Authenticode, kernel modules.", "(Not implemented yet: coming with the signing issue.)"})
    static final class Sign extends Group {
    }

    @Command(name = "keys", mixinStandardHelpOptions = true,
            description = {"Key hierarchies: Secure Boot PK/KEK/db, OVMF variable stores.", "(Not implemented yet: coming with the signing issue.)"})
    static final class Keys extends Group {
    }

    @Command(name = "ipe", mixinStandardHelpOptions = true,
            description = {"IPE policies: write, check and sign.", "(Not implemented yet: coming with the signing issue.)"})
    static final class Ipe extends Group {
    }

    @Command(name = "oci", mixinStandardHelpOptions = true,
            description = {"OCI layouts, registries and signatures.", "(Not implemented yet: coming with the OCI issue.)"})
    static final class Oci extends Group {
    }

    @Command(name = "build", mixinStandardHelpOptions = true,
            description = {"Build a complete signed image set from a spec.", "(Not implemented yet: coming with the build issue.)"})
    static final class Build extends Group {
    }
}

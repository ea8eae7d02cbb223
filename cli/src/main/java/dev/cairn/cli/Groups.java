package dev.cairn.cli;

import picocli.CommandLine.Command;

/**
 * Command groups whose subcommands arrive with later capabilities. Invoked without a subcommand
 * they print their usage and exit 2; they never pretend to do work.
 */
final class Groups {
    private Groups() {
    }

    @Command(name = "build", mixinStandardHelpOptions = true,
            description = {"Build a complete signed image set from a spec.", "(Not implemented yet: coming with the build issue.)"})
    static final class Build extends CommandGroup {
    }
}

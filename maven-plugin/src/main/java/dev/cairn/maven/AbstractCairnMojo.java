package dev.cairn.maven;

import dev.cairn.pipeline.PipelineException;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.maven.plugin.AbstractMojo;
import org.apache.maven.plugin.MojoFailureException;
import org.apache.maven.plugins.annotations.Parameter;

/**
 * What every cairn goal shares: the output directory, {@code cairn.skip}, and one mapping of the
 * pipeline's failures to a failed build whose message is the pipeline's own one line (a spec
 * error reads {@code FILE:LINE: key: message}).
 */
public abstract class AbstractCairnMojo extends AbstractMojo {
    /** The image set's directory: {@code cairn:build} writes it, {@code cairn:verify} and {@code cairn:push} read it. */
    @Parameter(property = "cairn.outputDirectory", defaultValue = "${project.build.directory}/cairn", required = true)
    protected File outputDirectory;

    /** Skip this goal (and, as a property, every cairn goal). */
    @Parameter(property = "cairn.skip", defaultValue = "false")
    protected boolean skip;

    @Override
    public final void execute() throws MojoFailureException {
        if (skip) {
            getLog().info("Skipping cairn:" + goal() + " (cairn.skip)");
            return;
        }
        try {
            run();
        } catch (PipelineException e) {
            throw new MojoFailureException(e.getMessage(), e);
        } catch (IOException e) {
            throw new MojoFailureException(PipelineException.describe(e), e);
        } catch (UncheckedIOException e) {
            throw new MojoFailureException(PipelineException.describe(e.getCause()), e);
        } catch (IllegalArgumentException e) {
            // bad configuration: a reference, a thread count, a settings.xml server
            throw new MojoFailureException(e.getMessage(), e);
        }
    }

    /** The goal's name, for log lines. */
    abstract String goal();

    /** The goal's work, once {@code skip} is checked. */
    abstract void run() throws IOException, MojoFailureException;
}

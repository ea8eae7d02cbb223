package dev.cairn.maven;

import dev.cairn.pipeline.BuildListener;
import dev.cairn.pipeline.StepReport;
import java.time.Duration;
import java.util.Locale;
import org.apache.maven.plugin.logging.Log;

/** A build's step lines, warnings and waits in Maven's log, worded as {@code cairn build} prints them. */
final class LogBuildListener implements BuildListener {
    private final Log log;

    LogBuildListener(Log log) {
        this.log = log;
    }

    @Override
    public void stepStarted(int index, int total, String step, String label) {
        log.info(String.format(Locale.ROOT, "[%d/%d] %s ...", index, total, label));
    }

    @Override
    public void stepFinished(StepReport report, Duration took) {
        String how = report.cache() == StepReport.Cache.HIT
                ? " cached" + ("local".equals(report.source()) ? "" : " (from " + report.source() + ")") : " done";
        log.info(String.format(Locale.ROOT, "      %s%s (%.1f s)", report.step(), how, took.toNanos() / 1e9));
        for (String note : report.notes()) {
            log.info("        " + note);
        }
    }

    @Override
    public void warning(String message) {
        log.warn(message);
    }

    @Override
    public void info(String message) {
        log.info(message);
    }
}

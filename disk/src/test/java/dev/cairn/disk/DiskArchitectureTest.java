package dev.cairn.disk;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.EvaluationResult;
import org.junit.jupiter.api.Test;

/**
 * disk is a format module: it depends on binary-io and the JDK only — no other cairn module, no
 * picocli (the same rule cli's ArchitectureTest applies to every format module it can see).
 */
class DiskArchitectureTest {
    @Test
    void dependsOnBinaryIoOnly() {
        JavaClasses classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.cairn.disk");
        assertThat(classes.stream().anyMatch(c -> c.getSimpleName().equals("GptWriter"))).isTrue();
        EvaluationResult r = noClasses().that().resideInAPackage("dev.cairn.disk..").should().dependOnClassesThat()
                .resideInAnyPackage("dev.cairn.verity..", "dev.cairn.squashfs..", "dev.cairn.uki..", "dev.cairn.signing..",
                        "dev.cairn.oci..", "dev.cairn.pipeline..", "dev.cairn.cli..", "dev.cairn.maven..", "dev.cairn.testing..",
                        "picocli..", "com.fasterxml..", "org.bouncycastle..")
                .evaluate(classes);
        assertThat(r.getFailureReport().getDetails()).isEmpty();
        EvaluationResult io = noClasses().that().resideInAPackage("dev.cairn.disk..").should().dependOnClassesThat()
                .resideInAnyPackage("dev.cairn.io..").evaluate(classes);
        assertThat(io.hasViolation()).as("disk uses binary-io").isTrue();
    }
}

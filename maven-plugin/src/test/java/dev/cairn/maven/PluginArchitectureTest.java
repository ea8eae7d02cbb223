package dev.cairn.maven;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.EvaluationResult;
import org.junit.jupiter.api.Test;

/** The plugin is a face over the pipeline like the command line: it knows neither picocli nor the command line (see cli's ArchitectureTest). */
class PluginArchitectureTest {
    @Test
    void thePluginUsesThePipelineNotTheCommandLine() {
        JavaClasses classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.cairn.maven");
        assertThat(classes.stream().anyMatch(c -> c.getSimpleName().equals("BuildMojo"))).isTrue();
        EvaluationResult r = noClasses().that().resideInAPackage("dev.cairn.maven..").should().dependOnClassesThat()
                .resideInAnyPackage("picocli..", "dev.cairn.cli..").evaluate(classes);
        assertThat(r.getFailureReport().getDetails()).isEmpty();
        EvaluationResult uses = noClasses().that().resideInAPackage("dev.cairn.maven..").should().dependOnClassesThat()
                .resideInAnyPackage("dev.cairn.pipeline..").evaluate(classes);
        assertThat(uses.hasViolation()).as("the goals call the pipeline API").isTrue();
    }
}

// The spec error reaches Maven's output as FILE:LINE: key: message, and nothing was built.
String log = new File(basedir, 'build.log').getText('UTF-8')
assert log.contains('BUILD FAILURE')
assert log =~ /Failed to execute goal dev\.cairn:cairn-maven-plugin:[^ ]+:build \(default\) on project broken-spec: .*image\.yaml:5: /
assert log.contains("image.yaml:5: image.verison: unknown key 'verison'") : 'the spec line and its message are not in the log'
assert !new File(basedir, 'target/cairn/manifest.json').exists()
return true

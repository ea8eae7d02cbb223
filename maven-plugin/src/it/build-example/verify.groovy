// cairn:build wrote a complete image set and cairn:verify passed on it, in one `mvn verify`.
import groovy.json.JsonSlurper

File out = new File(basedir, 'target/cairn')
File manifestFile = new File(out, 'manifest.json')
assert manifestFile.isFile() : "no ${manifestFile}"
assert new File(out, 'manifest.json.p7s').isFile()

def manifest = new JsonSlurper().parse(manifestFile)
assert manifest.image.name == 'cairn-example'
assert manifest.sourceDateEpoch == 1700000000 : 'the spec names its sourceDateEpoch: it wins'
def uki = manifest.artifacts.find { it.name == 'uki' }
assert uki != null : 'the manifest lists no UKI'
File ukiFile = new File(out, uki.path)
assert ukiFile.isFile() && ukiFile.length() == uki.size : "UKI ${ukiFile} missing or not ${uki.size} bytes"
assert new File(out, 'dev-keys/ca.crt').isFile()

String log = new File(basedir, 'build.log').getText('UTF-8')
assert log =~ /--- cairn:[^ ]+:build \(image-set\) @ build-example ---/
assert log =~ /\[1\/\d+\] /: 'no step lines in the log'
assert log.contains('[WARNING] signed with DEVELOPMENT keys from ')
assert log =~ /--- cairn:[^ ]+:verify \(image-set\) @ build-example ---/
assert log =~ /\[INFO\] ok +manifest signature /
assert log =~ /Image set .* verified: \d+ links hold\./ : 'cairn:verify did not pass'
assert !log.contains('FAILED ')
assert log.contains('BUILD SUCCESS')

def took = (log =~ /Total time: +([^\r\n]+)/)
println "build-example: mvn verify (cairn:build + cairn:verify) took ${took ? took[0][1].trim() : '?'}"
return true

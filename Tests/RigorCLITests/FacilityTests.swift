import Foundation
import RigorTestSupport
import Testing

/// Suites drop cases whose facility is missing when they build their arguments (the namespace
/// levels of `HostileAgentTests` and `HostileWorldTests` without bwrap), where no case can say it
/// was skipped. On CI (`CI=true`: root with bwrap) that would hide a broken machine, so this
/// fails there instead; elsewhere it lists what is missing and passes.
@Suite("facilities the suites rely on")
struct FacilityTests {
    @Test("on CI, root, working bwrap namespaces, setpriv and script are all here")
    func presentOnCI() {
        let needs: [(String, Bool)] = [
            ("root", Facility.isRoot),
            ("bwrap namespaces", Facility.bwrapWorks),
            ("/usr/bin/setpriv", FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")),
            ("/usr/bin/script", FileManager.default.isExecutableFile(atPath: "/usr/bin/script")),
        ]
        for (what, present) in needs where !present {
            #expect(Facility.mayLack(what), "CI=true but \(what) is missing: the suites that need it skip cases")
        }
    }
}

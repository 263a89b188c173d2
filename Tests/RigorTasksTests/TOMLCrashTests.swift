import RigorTasks
import Testing

/// Inputs the manifest fuzz test found that made toml++ (under TOMLKit) abort the process on an
/// assertion (`rigor tasks list` exited 134) instead of reporting a syntax error.
@Suite("TOML inputs that crashed the parser")
struct TOMLCrashTests {
    @Test("each is a manifest error naming the line, not a crash",
          arguments: ["[[[a]]]", "[[ [a]]", "[.a]", "[[[", "[[ [", "[é]", "[", "[[", "x = [}", "x = [1,}", "x = {a=[}}",
                      "x = [[}]]", "x = [ # c\n}"])
    func refused(_ toml: String) {
        #expect {
            _ = try TaskManifest.parse("id = \"t\"\n" + toml + "\n", path: "t/task.toml")
        } throws: { error in
            "\(error)".contains("TOML error at line")
        }
    }

    @Test("strings, comments and valid headers that look alike are not refused by the pre-check",
          arguments: ["x = \"[}\"", "x = '[}'", "x = \"\"\"\n[}\"\"\"", "# [}\n[a]", "[ \"quoted key\" ]", "[[arr]]", "x = [ [1], [2] ]"])
    func notRefused(_ toml: String) {
        do {
            _ = try TaskManifest.parse(toml + "\n", path: "t/task.toml")
        } catch {
            #expect(!"\(error)".contains("TOML error"), "\(error)")
        }
    }
}

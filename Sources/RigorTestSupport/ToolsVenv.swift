import Foundation

/// The Python venv of test tools from PyPI (`make tools-venv`, which `make test` runs):
/// `.build-venv-tools/`, filled with the Makefile's TOOLS_VENV_PACKAGES. A test asks for the
/// module it needs; when it is missing the venv is made once, and when that fails too (PyPI
/// unreachable) the test gets nil and the reason is printed, so it can skip saying why.
public enum ToolsVenv {
    public static let directory = "\(RepoPaths.root)/.build-venv-tools"
    public static var python: String { "\(directory)/bin/python" }

    private static let made: CommandResult? = {
        try? CommandLineRun.run("/usr/bin/make", ["-s", "tools-venv"], cwd: RepoPaths.root)
    }()

    /// The venv's python when `import <module>` works in it, else nil (the reason printed,
    /// naming `user`, the test that wanted it).
    public static func python(importing module: String, for user: String) -> String? {
        let probe = ["-c", "import \(module)"]
        if let r = try? CommandLineRun.run(python, probe), r.status == 0 { return python }
        let make = made
        if let r = try? CommandLineRun.run(python, probe), r.status == 0 { return python }
        print("\(user) skipped: Python module '\(module)' could not be installed into \(directory) (make tools-venv: \(make?.stdout ?? "") \(make?.stderr ?? "make failed"))")
        return nil
    }
}

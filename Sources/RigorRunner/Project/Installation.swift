import Foundation

/// Where the files Rigor reads at run time — the Python agent SDK — live, for a `rigor` run
/// from Rigor's checkout as for one installed with `make install` (`<prefix>/bin/rigor`,
/// `<prefix>/share/rigor/sdk`) or unpacked from the release tarball (same layout).
///
/// A user's project holds no copy of the SDK: it is found next to the binary, so the project
/// works on any machine with Rigor installed, without Rigor's checkout.
public enum Installation {
    /// The SDK's path below an installation prefix.
    public static let sharedSDK = "share/rigor/sdk"
    /// The SDK's path in Rigor's checkout.
    public static let checkoutSDK = "Agents/sdk"

    /// The running executable, symbolic links resolved (`/proc/self/exe` on Linux).
    public static var executable: String? {
        if let resolved = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return resolved }
        return Foundation.Bundle.main.executablePath
    }

    /// The SDK belonging to the binary at `executable`: `<dir>/share/rigor/sdk` or
    /// `<dir>/Agents/sdk` for the binary's directory and its first four ancestors (an installed
    /// `<prefix>/bin/rigor`, or `<checkout>/.build/<triple>/debug/rigor`).
    public static func sdkDirectory(besideExecutable executable: String) -> String? {
        var directory = (executable as NSString).deletingLastPathComponent
        for _ in 0..<5 {
            for candidate in ["\(directory)/\(sharedSDK)", "\(directory)/\(checkoutSDK)"]
            where FileManager.default.fileExists(atPath: "\(candidate)/run_agent.py") {
                return candidate
            }
            if directory == "/" || directory.isEmpty { break }
            directory = (directory as NSString).deletingLastPathComponent
        }
        return nil
    }

    /// The SDK when none is named (`--sdk-dir`): the project's own `Agents/sdk` when it has one
    /// (Rigor's checkout), else the one beside the binary, else the project's path (so that
    /// the error names where it was looked for).
    public static func defaultSDKDirectory(root: String) -> String {
        let own = "\(root)/\(checkoutSDK)"
        if FileManager.default.fileExists(atPath: "\(own)/run_agent.py") { return own }
        if let executable, let beside = sdkDirectory(besideExecutable: executable) { return beside }
        return own
    }
}

import ArgumentParser
import Foundation

// Parsing and exit codes are handled here, in one place: usage errors exit 2 (not
// ArgumentParser's 64), `--help` exits 0, and commands report outcomes with `CLIExit`.
Interrupts.install()
do {
    var command = try RigorCommand.parseAsRoot()
    try command.run()
} catch let exit as CLIExit {
    Foundation.exit(exit.code.rawValue)
} catch {
    if RigorCommand.exitCode(for: error) == .success {
        print(RigorCommand.fullMessage(for: error))
        Foundation.exit(ExitStatusCode.success.rawValue)
    }
    let message = RigorCommand.fullMessage(for: error)
    FileHandle.standardError.write(Data((message.hasSuffix("\n") ? message : message + "\n").utf8))
    Foundation.exit(ExitStatusCode.usage.rawValue)
}

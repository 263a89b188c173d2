import ArgumentParser
import Foundation
import RigorRunner

// Parsing and exit codes are handled here, in one place: usage errors exit 2 (not
// ArgumentParser's 64), `--help` exits 0, and commands report outcomes with `CLIExit`.
Interrupts.install()
// The model gateway's keys and the world key leave the environment block an agent at
// --isolation none could read (CallerSecrets).
CallerSecrets.captureAndScrub(Array(ModelOptions.defaultKeyVariables.values) + [WorldKeyFile.environmentVariable])
do {
    var command = try RigorCommand.parseAsRoot()
    try checkInput(of: command)
    try command.run()
    Interrupts.exit(ExitStatusCode.success.rawValue)
} catch let exit as CLIExit {
    Interrupts.exit(exit.code.rawValue)
} catch {
    if RigorCommand.exitCode(for: error) == .success {
        print(RigorCommand.fullMessage(for: error))
        Interrupts.exit(ExitStatusCode.success.rawValue)
    }
    let message = RigorCommand.fullMessage(for: error)
    Console.write(message.hasSuffix("\n") ? message : message + "\n", toError: true)
    if let hint = usageHint(CommandLine.arguments) { Console.write(hint + "\n", toError: true) }
    Interrupts.exit(ExitStatusCode.usage.rawValue)
}

/// Runs the command's own input checks (`InputChecked`), after parsing has reported any unknown
/// option; a failed one exits 2 with the message and the command's usage.
func checkInput(of command: ParsableCommand) throws {
    guard let checked = command as? InputChecked else { return }
    do {
        try checked.checkInput()
    } catch let invalid as ValidationError {
        Console.write(message(invalid, for: type(of: command)), toError: true)
        throw CLIExit(code: .usage)
    }
}

private func message(_ invalid: ValidationError, for type: ParsableCommand.Type) -> String {
    let usage = RigorCommand.usageString(for: type)
    let path = usage.split(separator: " ").prefix { !$0.hasPrefix("<") && !$0.hasPrefix("[") && !$0.hasPrefix("-") }
    return "Error: \(invalid.message)\nUsage: \(usage)\n  See '\(path.joined(separator: " ")) --help' for more information.\n"
}

/// What a refused command line most likely meant, when a common guess is misplaced:
/// `rigor run --pairing NAME` (a pairing is run as `rigor run pairing NAME`).
func usageHint(_ arguments: [String]) -> String? {
    let args = Array(arguments.dropFirst())
    guard args.first == "run", args.dropFirst().first != "pairing" else { return nil }
    guard let i = args.firstIndex(where: { $0 == "--pairing" || $0 == "--pairings" || $0.hasPrefix("--pairing=") || $0.hasPrefix("--pairings=") })
    else { return nil }
    let given = args[i].contains("=") ? String(args[i].split(separator: "=", maxSplits: 1)[1]) : (i + 1 < args.count ? args[i + 1] : "<name>")
    return "Hint: a named pairing runs as `rigor run pairing \(given.isEmpty || given.hasPrefix("-") ? "<name>" : given) [--seed N]` (`rigor run pairing --list` lists them); `rigor batch --pairings` runs several."
}

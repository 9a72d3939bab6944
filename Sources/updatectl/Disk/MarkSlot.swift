import ArgumentParser
import Slots

struct MarkSlot: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mark",
        abstract: "Apply a named boot-flag transition to a slot.",
        discussion: """
            good     successful 1, tries 0, top priority: the slot is proven
            bad      priority 0, tries 0, successful 0: never boot it again until rewritten
            trial    successful 0, tries N (--tries, default 1), top priority: boot it next, N times at most
            invalid  priority 0, tries 0, successful 0: about to be written
            """
    )

    enum State: String, ExpressibleByArgument, CaseIterable {
        case good, bad, trial, invalid
    }

    @OptionGroup var options: DiskOptions

    @Argument(help: "The slot: A, B, its label or its partition number.")
    var slot: String

    @Argument(help: "good, bad, trial or invalid.")
    var state: State

    @Option(help: "Boot attempts for a trial, 1-15.")
    var tries: UInt8 = 1

    func validate() throws {
        guard (1...BootAttributes.maximumTries).contains(tries) else {
            throw ValidationError("--tries must be 1-15, not \(tries)")
        }
    }

    func run() throws {
        let pair = try options.slotPair()
        let name = try pair.resolve(slot).name
        let control = try options.bootControl(pair)
        let change = switch state {
        case .good: try control.markGood(name)
        case .bad: try control.markBad(name)
        case .trial: try control.setTrial(name, tries: tries)
        case .invalid: try control.invalidate(name)
        }
        print(describe(change, on: pair))
    }
}

import Bootloaders
import Slots

/// A grubenv block as the grub-env backend reads it from the ESP: parsed as GRUB's load_env
/// reads it, Tandem's variables decoded, changed and serialized again.
enum GrubEnvTarget {
    static func run(_ input: [UInt8]) -> FuzzOutcome {
        FuzzOutcome {
            let path = try ScratchDirectory.write(input, to: "esp/tandem/grubenv")
            guard let bytes = try GrubEnvironmentFile(path: path).read() else { return }
            let parsed = try GrubEnvironment.parse(bytes)
            let decoded = GrubBootVariables.decode(parsed.environment)
            // The fuzzer's oracles. Whatever GRUB reads serializes to a block it reads the same,
            // and no larger: unescaping never lengthens a value.
            let roomy = parsed.environment.serialized(size: bytes.count)
            precondition(roomy.map { try? GrubEnvironment.parse($0).environment } == parsed.environment,
                         "a block GRUB reads does not serialize to one it reads the same")
            // What Tandem writes reads back as what it meant, keeps the boot record and the
            // others' variables, and keeps Tandem's lines in the first 512-byte sector.
            let swapped = [SlotName.a: decoded.attributes[.b] ?? BootAttributes(rawValue: 0),
                           .b: decoded.attributes[.a] ?? BootAttributes(rawValue: 0)]
            let encoded = GrubBootVariables.encode(swapped, into: parsed.environment)
            guard let block = encoded.serialized() else { return }
            let back = try GrubEnvironment.parse(block)
            let again = GrubBootVariables.decode(back.environment)
            precondition(back.defects.isEmpty && again.problems.isEmpty, "Tandem wrote a block with defects")
            precondition(again.attributes == swapped && again.lastBoot == decoded.lastBoot, "Tandem's variables read back changed")
            let owned = Set(GrubBootVariables.names.map { Array($0.utf8) })
            precondition(back.environment.variables.filter { !owned.contains($0.name) }
                == parsed.environment.variables.filter { !owned.contains($0.name) }, "others' variables changed")
            let tandemLines = back.environment.variables.prefix(GrubBootVariables.names.count)
            precondition(tandemLines.map(\.name) == GrubBootVariables.names.map { Array($0.utf8) }
                && GrubEnvironment(variables: Array(tandemLines)).serialized(size: 512) != nil,
                "Tandem's variables are not first, within the first sector")
        }
    }
}

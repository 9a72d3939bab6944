/// The boot attributes of every partition on a disk, with the cgpt and GRUB operations
/// on them. Pure: reading and writing the disk is `BootControl`'s job.
public struct BootTable: Sendable, Equatable {
    /// Partition numbers of the USR-type partitions, in table order. Only these take part in
    /// `prioritize` and `nextBoot`, as in cgpt and GRUB.
    public let bootPartitions: [Int]
    private var attributesByPartition: [Int: BootAttributes]

    public init(attributes: [Int: BootAttributes], bootPartitions: [Int]) {
        attributesByPartition = attributes
        self.bootPartitions = bootPartitions.sorted()
    }

    public subscript(partition: Int) -> BootAttributes {
        get { attributesByPartition[partition] ?? BootAttributes(rawValue: 0) }
        set { attributesByPartition[partition] = newValue }
    }

    /// The partition GRUB's `gptprio.next` would boot, or nil when none is bootable.
    ///
    /// Scanning in table order, a candidate needs tries left or the successful flag, and a
    /// priority strictly above the best so far, which starts at 0: so priority 0 never boots
    /// and a tie goes to the lower partition number.
    public func nextBoot() -> Int? {
        var best: Int?
        var bestPriority: UInt8 = 0
        for number in bootPartitions {
            let attributes = self[number]
            if (attributes.tries > 0 || attributes.successful) && attributes.priority > bestPriority {
                best = number
                bestPriority = attributes.priority
            }
        }
        return best
    }

    /// What the bootloader does at power-on: pick the next partition and, if it is on trial,
    /// use up one of its tries. Returns the partition and whether the table changed.
    public mutating func takeNextBoot() -> (partition: Int, consumedTry: Bool)? {
        guard let chosen = nextBoot() else { return nil }
        guard self[chosen].tries > 0 else { return (chosen, false) }
        self[chosen].tries -= 1
        return (chosen, true)
    }

    /// cgpt's `prioritize`: the chosen partition gets the top priority and the others keep
    /// their relative order below it. Partitions at priority 0 stay at 0; nothing is lowered
    /// to 0 and nothing below the top drops under 1.
    public mutating func prioritize(_ chosen: Int, maximumPriority: UInt8? = nil) {
        // Groups of equal priority, in order of first appearance; the chosen partition forms
        // a group of its own that sorts above every real priority.
        let chosenGroupKey = 99
        var groups: [(key: Int, members: [Int])] = []
        for number in bootPartitions {
            let key = number == chosen ? chosenGroupKey : Int(self[number].priority)
            if let index = groups.firstIndex(where: { $0.key == key }) {
                groups[index].members.append(number)
            } else {
                groups.append((key, [number]))
            }
        }
        // A stable sort, like cgpt's insertion sort, so equal groups keep table order.
        groups = groups.enumerated()
            .sorted { $0.element.key != $1.element.key ? $0.element.key > $1.element.key : $0.offset < $1.offset }
            .map(\.element)
        if groups.last?.key == 0 { groups.removeLast() }

        var priority = maximumPriority ?? UInt8(min(groups.count, Int(BootAttributes.maximumPriority)))
        for group in groups {
            for number in group.members { self[number].priority = priority }
            if priority > 1 { priority -= 1 }
        }
    }

    /// Before the first byte of an update is written: the slot must not boot.
    public mutating func invalidate(_ partition: Int) {
        self[partition] = self[partition].unbootable()
    }

    /// The slot failed: it must not boot again until it is rewritten.
    public mutating func markBad(_ partition: Int) {
        self[partition] = self[partition].unbootable()
    }

    /// A freshly written slot gets `tries` boots to prove itself, ahead of every other slot.
    public mutating func setTrial(_ partition: Int, tries: UInt8 = 1) {
        self[partition].successful = false
        self[partition].tries = max(1, tries)
        prioritize(partition)
    }

    /// The slot is proven: it boots first from now on, with no tries to count down.
    public mutating func markGood(_ partition: Int) {
        self[partition].successful = true
        self[partition].tries = 0
        prioritize(partition)
    }
}

extension RandomAccessCollection {
    /// The first index whose element is in the second part of a collection partitioned by
    /// `isInSecondPart` (false for a prefix, true for the rest), found by binary search; the end
    /// index when none is. Sorted arrays looked up by key use it with "not below the key".
    /// Inlinable so that callers in other modules get it specialized: unspecialized, every
    /// comparison goes through value witnesses and boxes (a delta's lookups, a block at a time,
    /// spent more in malloc than in the search).
    @inlinable
    public func partitioningIndex(where isInSecondPart: (Element) throws -> Bool) rethrows -> Index {
        var low = startIndex
        var count = self.count
        while count > 0 {
            let half = count / 2
            let middle = index(low, offsetBy: half)
            if try isInSecondPart(self[middle]) {
                count = half
            } else {
                low = index(after: middle)
                count -= half + 1
            }
        }
        return low
    }
}

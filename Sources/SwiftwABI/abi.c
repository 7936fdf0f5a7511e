/* Header-only target: see include/swiftw_abi.h. */

// SPDX-License-Identifier: MIT
pragma solidity 0.8.29;

import {Address} from "@openzeppelin/contracts/utils/Address.sol";

/**
 * @title BenchBatch
 * @notice Benchmark peer only (bench/gas.py): a relayer's batching contract, as Multicall3 would be, to
 * send the seven signed ballots of an OpenZeppelin Governor decision (`castVoteBySig`, which counts the
 * signer, not the caller) in one transaction. The Governor has no batching of its own.
 */
contract BenchBatch {
    /// @notice Call `target` with each of `calls` in turn; a failing call reverts the batch with its error.
    function forward(address target, bytes[] calldata calls) external {
        for (uint256 i = 0; i < calls.length; ++i) {
            Address.functionCall(target, calls[i]);
        }
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.29;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {ERC721Votes} from "@openzeppelin/contracts/token/ERC721/extensions/ERC721Votes.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

/**
 * @title BenchSeats
 * @notice Benchmark peer only (bench/gas.py): the board seats of an OpenZeppelin Governor as an
 * ERC721Votes token. Seat `i` is token `i`, minted to `holders[i]` and self-delegated at deployment,
 * so every holder has exactly one vote from the next block on.
 */
contract BenchSeats is ERC721, EIP712, ERC721Votes {
    constructor(address[] memory holders) ERC721("IT Hub Hoogeveen Board Seat", "SEAT") EIP712("BenchSeats", "1") {
        for (uint256 i = 0; i < holders.length; i++) {
            _delegate(holders[i], holders[i]);
            _mint(holders[i], i);
        }
    }

    // The following functions are overrides required by Solidity.

    function _update(address to, uint256 tokenId, address auth)
        internal
        override(ERC721, ERC721Votes)
        returns (address)
    {
        return super._update(to, tokenId, auth);
    }

    function _increaseBalance(address account, uint128 amount) internal override(ERC721, ERC721Votes) {
        super._increaseBalance(account, amount);
    }
}

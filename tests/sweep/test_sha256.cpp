// SHA-256 against the examples of FIPS 180-2 (Appendix B) and NIST's published digest of the empty
// message: one block, two blocks after padding, many blocks.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/json_input.h"
#include "sweep/sha256.h"

using namespace mhc;

TEST(Sha256, MatchesTheStandardsExamples) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // 56 bytes: the padding's length field no longer fits, a second block is needed.
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, HashesAFilesBytesAndNamesAMissingFile) {
  const std::string path = testing::TempDir() + "/sha256_abc.bin";
  std::ofstream(path, std::ios::binary) << "abc";
  EXPECT_EQ(sha256_file_hex(path), sha256_hex("abc"));
  std::filesystem::remove(path);
  try {
    sha256_file_hex(path);
    ADD_FAILURE() << "a missing file was hashed";
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), path);
  }
}

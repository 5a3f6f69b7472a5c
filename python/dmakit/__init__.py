# SPDX-License-Identifier: MIT
"""Read dmakit recordings with numpy: the index as structured arrays, the
data as memory-mapped buffers or samples, gaps visible, CRCs verified.

    import dmakit
    rec = dmakit.open("/data/run1.dat")
    print(len(rec), rec.gaps, rec.timestamps[:4])
    report = rec.verify()

Command line: python3 -m dmakit {info,verify,check} ... (see --help).
"""
from .crc32c import crc32c
from .recording import (F_CRC, F_DMA_ERR, F_GAP, F_HOST_CRC, F_TRUNC,
                        Buffer, FormatError, Recording, Report, open,
                        sample_dtype)

__all__ = ["open", "Recording", "Report", "Buffer", "FormatError",
           "crc32c", "sample_dtype", "F_GAP", "F_DMA_ERR", "F_TRUNC",
           "F_CRC", "F_HOST_CRC"]

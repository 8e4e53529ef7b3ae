// Typed reads of one column of an SPI result row, with the value to use for NULL. One place for every adapter
// file that reads SPI results.
#pragma once

#include "pg/postgres.hpp"

namespace rubberduck::pg {

inline Datum spi_datum(HeapTuple t, TupleDesc d, int col, bool *isnull) {
    return SPI_getbinval(t, d, col, isnull);
}

inline double spi_float8(HeapTuple t, TupleDesc d, int col, double if_null = 0) {
    bool isnull;
    Datum v = spi_datum(t, d, col, &isnull);
    return isnull ? if_null : DatumGetFloat8(v);
}

inline int64 spi_int8(HeapTuple t, TupleDesc d, int col) {
    bool isnull;
    Datum v = spi_datum(t, d, col, &isnull);
    return isnull ? 0 : DatumGetInt64(v);
}

inline int32 spi_int4(HeapTuple t, TupleDesc d, int col) {
    bool isnull;
    Datum v = spi_datum(t, d, col, &isnull);
    return isnull ? 0 : DatumGetInt32(v);
}

inline bool spi_bool(HeapTuple t, TupleDesc d, int col) {
    bool isnull;
    Datum v = spi_datum(t, d, col, &isnull);
    return !isnull && DatumGetBool(v);
}

inline Oid spi_oid(HeapTuple t, TupleDesc d, int col) {
    bool isnull;
    Datum v = spi_datum(t, d, col, &isnull);
    return isnull ? InvalidOid : DatumGetObjectId(v);
}

}  // namespace rubberduck::pg

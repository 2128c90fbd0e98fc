"""Custom fields on register records: definitions per project and kind, typed values, for every kind alike."""

DROP TABLE classification_codes;

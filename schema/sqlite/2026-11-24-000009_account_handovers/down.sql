DROP TABLE account_handovers;

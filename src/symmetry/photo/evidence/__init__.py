"""photo/evidence"""

//! Elementwise arithmetic: `add`, `sub`, `neg`, `mul`, `mul_scalar`, `square`, `pow`.

use super::{fan_out, needs, unbroadcast};
use crate::backend::{Backend, OpResult};
use crate::error::Error;
use crate::var::Var;

impl<B: Backend> Var<B> {
    /// `self + rhs` with broadcasting.
    pub fn add(&self, rhs: &Self) -> OpResult<B, Self> {
        let b = self.backend();
        let value = b.add(&self.value(), &rhs.value())?;
        let (sa, sb) = (self.shape(), rhs.shape());
        Ok(Self::from_op(
            "add",
            b,
            value,
            vec![self.clone(), rhs.clone()],
            Box::new(move |b, g, n| {
                let (ga, gb) = fan_out(g, n);
                Ok(vec![
                    ga.map(|g| unbroadcast(b, g, &sa)).transpose()?,
                    gb.map(|g| unbroadcast(b, g, &sb)).transpose()?,
                ])
            }),
        ))
    }

    /// `self - rhs` with broadcasting.
    pub fn sub(&self, rhs: &Self) -> OpResult<B, Self> {
        let b = self.backend();
        let value = b.sub(&self.value(), &rhs.value())?;
        let (sa, sb) = (self.shape(), rhs.shape());
        Ok(Self::from_op(
            "sub",
            b,
            value,
            vec![self.clone(), rhs.clone()],
            Box::new(move |b, g, n| {
                let (ga, gb) = fan_out(g, n);
                let ga = ga.map(|g| unbroadcast(b, g, &sa)).transpose()?;
                let gb = gb.map(|g| unbroadcast(b, b.neg(&g)?, &sb)).transpose()?;
                Ok(vec![ga, gb])
            }),
        ))
    }

    /// `-self`.
    pub fn neg(&self) -> OpResult<B, Self> {
        let b = self.backend();
        let value = b.neg(&self.value())?;
        Ok(Self::from_op("neg", b, value, vec![self.clone()], Box::new(|b, g, _| Ok(vec![Some(b.neg(&g)?)]))))
    }

    /// `self ⊙ rhs` (elementwise) with broadcasting.
    pub fn mul(&self, rhs: &Self) -> OpResult<B, Self> {
        let b = self.backend();
        let (x, y) = (self.value(), rhs.value());
        let value = b.mul(&x, &y)?;
        let (sa, sb) = (b.shape(&x), b.shape(&y));
        Ok(Self::from_op(
            "mul",
            b,
            value,
            vec![self.clone(), rhs.clone()],
            Box::new(move |b, g, n| {
                let ga = if needs(n, 0) { Some(unbroadcast(b, b.mul(&g, &y)?, &sa)?) } else { None };
                let gb = if needs(n, 1) { Some(unbroadcast(b, b.mul(&g, &x)?, &sb)?) } else { None };
                Ok(vec![ga, gb])
            }),
        ))
    }

    /// `c · self` for a public real constant `c`.
    pub fn mul_scalar(&self, c: f64) -> OpResult<B, Self> {
        let b = self.backend();
        let value = b.mul_scalar(&self.value(), c)?;
        Ok(Self::from_op(
            "mul_scalar",
            b,
            value,
            vec![self.clone()],
            Box::new(move |b, g, _| Ok(vec![Some(b.mul_scalar(&g, c)?)])),
        ))
    }

    /// `self ⊙ self`.
    pub fn square(&self) -> OpResult<B, Self> {
        let b = self.backend();
        let x = self.value();
        let value = b.mul(&x, &x)?;
        Ok(Self::from_op(
            "square",
            b,
            value,
            vec![self.clone()],
            Box::new(move |b, g, _| Ok(vec![Some(b.mul_scalar(&b.mul(&g, &x)?, 2.0)?)])),
        ))
    }

    /// `self ^ n` elementwise for an integer `n ≥ 1`, by repeated squaring (only
    /// multiplications, so it runs on any backend). `pow(2)` is [`square`](Var::square).
    pub fn pow(&self, n: u32) -> OpResult<B, Self> {
        match n {
            0 => Err(Error::InvalidArgument { op: "pow", reason: "exponent must be at least 1".into() }.into()),
            1 => Ok(self.clone()),
            2 => self.square(),
            _ => {
                let half = self.pow(n / 2)?.square()?;
                if n % 2 == 1 { half.mul(self) } else { Ok(half) }
            }
        }
    }
}
